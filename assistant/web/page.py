"""The page's layout: Gradio Blocks with its three tabs (Ask, Library, Settings), wired to a `Controller`."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import gradio as gr

from ..assistant import Assistant
from ..sources.articles import SUPPORTED_SUFFIXES
from .controller import Controller, example_question
from .render import EMPTY_SOURCES, article_choices, render_library

EXAMPLE_QUESTIONS = [
    "What did Lei Jun say about chips?",
    "How many buses is Halbrook buying?",
    "What did Okafor say about fares?",
    "Why did the Reserve Bank of Caldora cut its rate?",
    "How many Norvale Water customers were affected by the breach?",
    "Which film won the Golden Heron?",
]


def build_app(assistant: Assistant, watch: Sequence[str | Path] = (), watch_samples: bool = True) -> gr.Blocks:
    """The page and its API endpoints; launch it with `serve` (which adds the theme, CSS and script)."""
    actions = Controller(assistant, watch, watch_samples)
    articles = actions.articles()  # first paint; every page load refreshes it (another process may have ingested)
    private = {"api_visibility": "private"}
    with gr.Blocks(title="Newsdesk", analytics_enabled=False, fill_width=True) as app:
        turns = gr.State([])
        with gr.Row(elem_id="nd-header", equal_height=True):
            gr.HTML('<div class="nd-brand"><span class="nd-logo">N</span><div><div class="nd-name">Newsdesk</div>'
                    '<div class="nd-tag">Answers from your articles — every claim cited</div></div></div>')
            status = gr.HTML(actions.header_html(articles), elem_id="nd-status-box")
        with gr.Column(visible=not articles, elem_id="nd-offer") as offer:
            offer_text = gr.HTML('<div class="nd-offer-text"><strong>The index is empty.</strong> Index the sample '
                                 "news articles to try Newsdesk now, or add your own in the Library tab.</div>",
                                 elem_id="nd-offer-text")
            offer_btn = gr.Button("Index the sample articles", variant="primary", size="sm", elem_id="nd-offer-btn")
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"):
                with gr.Row(equal_height=False, elem_id="nd-ask-row"):
                    with gr.Column(scale=3, min_width=420):
                        chatbot = gr.Chatbot(
                            show_label=False, elem_id="nd-chat", height="calc(100vh - 290px)", min_height=420,
                            latex_delimiters=[], feedback_options=None, buttons=[], layout="panel",
                            examples=[{"text": q} for q in EXAMPLE_QUESTIONS],
                            placeholder="<div class='nd-placeholder'><div class='nd-ph-title'>Ask about the news</div>"
                                        "Answers quote the articles and cite them. Try one of these:</div>",
                        )
                        with gr.Row(elem_id="nd-input-row", equal_height=True):
                            question = gr.Textbox(show_label=False, placeholder="Ask a question about the articles…",
                                                  lines=1, max_lines=4, scale=8, elem_id="nd-question", autofocus=True)
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="nd-ask")
                        with gr.Row(elem_id="nd-tools"):
                            notice = gr.HTML("", elem_id="nd-notice")
                            clear_btn = gr.Button("New conversation", size="sm", variant="secondary", scale=0,
                                                  min_width=150, elem_id="nd-clear")
                    with gr.Column(scale=2, min_width=320, elem_id="nd-sources-col"):
                        sources = gr.HTML(EMPTY_SOURCES, elem_id="nd-sources-box")
            with gr.Tab("Library", id="library"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=420):
                        search = gr.Textbox(show_label=False, placeholder="Search headlines, sources, dates…",
                                            elem_id="nd-search")
                        library = gr.HTML(render_library(articles), elem_id="nd-library")
                    with gr.Column(scale=2, min_width=320):
                        report_box = gr.HTML("", elem_id="nd-report-box")
                        with gr.Group():
                            files = gr.File(label="Upload articles (.txt .md .html .json .jsonl, several at once)",
                                            file_count="multiple", file_types=list(SUPPORTED_SUFFIXES),
                                            elem_id="nd-upload", height=120)
                        with gr.Accordion("Paste an article", open=False, elem_id="nd-paste"):
                            paste_title = gr.Textbox(label="Headline (optional: else the first line)",
                                                     elem_id="nd-paste-title")
                            paste_text = gr.Textbox(label="Article text", lines=6, max_lines=20,
                                                    elem_id="nd-paste-text")
                            paste_btn = gr.Button("Add pasted article", size="sm", elem_id="nd-paste-btn")
                        with gr.Accordion("Remove articles", open=False, elem_id="nd-remove"):
                            remove_pick = gr.Dropdown(choices=article_choices(articles), multiselect=True,
                                                      filterable=True, show_label=False,
                                                      info="Pick articles by headline", elem_id="nd-remove-pick")
                            remove_btn = gr.Button("Remove selected", size="sm", variant="stop",
                                                   elem_id="nd-remove-btn")
                        with gr.Group():
                            watched = gr.HTML(actions.watched_html(), elem_id="nd-watched")
                            update_btn = gr.Button("Update index from watched folders", size="sm",
                                                   elem_id="nd-update-btn")
            with gr.Tab("Settings", id="settings"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        settings_box = gr.HTML(actions.settings_html(), elem_id="nd-settings")
                        with gr.Row():
                            test_btn = gr.Button("Test connection", size="sm", scale=0, min_width=160,
                                                 elem_id="nd-test-btn")
                        test_result = gr.HTML("", elem_id="nd-test-result")
                    with gr.Column(scale=2):
                        top_k = gr.Slider(1, 20, value=assistant.settings.top_k, step=1,
                                          label="Passages per answer (top-k)",
                                          info="How many retrieved passages the answerer reads.",
                                          elem_id="nd-topk")
                        gr.HTML('<p class="nd-muted">LLM settings come from the environment (OPENAI_API_KEY, '
                                "OPENAI_BASE_URL, NEWSDESK_MODEL, NEWSDESK_BACKEND, NEWSDESK_LLM_TIMEOUT, "
                                "NEWSDESK_LLM_MAX_TOKENS, NEWSDESK_LLM_CONTEXT); restart to change them.</p>")

        # -- wiring: the API endpoints first (they own their names), then the page's private events ---------------
        gr.api(actions.api_ask, api_name="ask", concurrency_limit=2)
        gr.api(actions.api_ingest, api_name="ingest")
        gr.api(actions.api_articles, api_name="articles")
        gr.api(actions.api_remove, api_name="remove")
        lib_outputs = [library, remove_pick, status, offer, watched]
        ask_io = {"fn": actions.ask_chat, "inputs": [question, turns, top_k],
                  "outputs": [chatbot, sources, question, turns, notice], "show_progress": "hidden",
                  "concurrency_limit": 2, **private}
        question.submit(**ask_io)
        ask_btn.click(**ask_io)
        chatbot.example_select(example_question, None, question, **private).then(**ask_io)
        clear_btn.click(actions.clear_chat, None, [chatbot, sources, question, turns, notice], **private)
        chatbot.clear(actions.clear_chat, None, [chatbot, sources, question, turns, notice], **private)

        search.change(actions.search_library, search, library, show_progress="hidden", **private)
        files.upload(actions.upload, [files, search], [report_box, *lib_outputs, files],
                     show_progress_on=[report_box], **private)
        paste_btn.click(actions.paste, [paste_text, paste_title, search],
                        [report_box, *lib_outputs, paste_text, paste_title], show_progress_on=[report_box], **private)
        remove_btn.click(actions.remove_selected, [remove_pick, search], [report_box, *lib_outputs],
                         show_progress_on=[report_box], **private)
        update_btn.click(actions.update_index, search, [report_box, *lib_outputs], show_progress_on=[report_box],
                         **private)
        offer_btn.click(actions.index_samples, search, [notice, *lib_outputs], show_progress_on=[offer_text], **private)
        test_btn.click(actions.test_connection, None, test_result, **private)
        app.load(actions.refresh, None, [*lib_outputs, settings_box], show_progress="hidden", **private)
    return app



def theme() -> gr.themes.Base:
    """System fonts only: the page must load with no request leaving the machine."""
    return gr.themes.Soft(
        primary_hue="indigo", secondary_hue="slate", neutral_hue="slate", radius_size="md",
        font=["Inter", "ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue",
              "Arial", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"],
    )

