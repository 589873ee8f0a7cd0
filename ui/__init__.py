"""The review workbench in the browser (Gradio): thin pages over dubdesk's service functions."""
