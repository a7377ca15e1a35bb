"""Newsdesk benchmark: `python -m bench` (this project vs the plain llama-index pipeline), `python -m bench scale`.

Each measured pipeline runs in its own worker process (`python -m bench _worker ...`) so that peak memory, imports
and framework-global settings (llama-index's `Settings`) of one cannot leak into the other. The parent only
prepares the corpus copies and questions, starts the workers, and prints the table.
"""
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DEFAULT_SHARED = ROOT.parent / "shared"  # --shared's default only: the corpus always comes from the parsed arguments
RESULTS_DIR = BENCH_DIR / "results"

# No run of the benchmark may reach the network: set before any worker imports a model or a vector store.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "GRADIO_ANALYTICS_ENABLED": "False",
}
