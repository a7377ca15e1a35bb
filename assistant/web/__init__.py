"""The web page: `render` (pure HTML), `controller` (the page's actions and API endpoints around an `Assistant`),
`page` (the Gradio Blocks layout), `serve` (launching it), `static/` (its CSS and JavaScript). `app.py` starts it."""
