# The two everyday commands:
#   make app    set everything up, then run the web app on the embedded model (samples loaded)
#   make test   set everything up, then run every test (unit, integration, e2e)
# Everything else is a building block of those two.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export GRADIO_ANALYTICS_ENABLED := False
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_TELEMETRY := 1
export ANONYMIZED_TELEMETRY := False
# The assembled 1 GB model file is shared by all test runs on this machine.
export NEWS_RAG_TEST_MODEL_DIR ?= $(CURDIR)/data/test-models

.PHONY: app test setup browser lint bench eval-smoke native-llm clean

app: setup
	$(BIN)/news-rag models --prepare
	$(BIN)/python app.py

test: setup browser
	$(BIN)/ruff check .
	$(BIN)/pytest -m "unit or integration or e2e"

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,dev]'
	touch $(STAMP)

# Debian's chromium for the browser tests (never a downloaded browser build).
browser:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium; }

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Optional: rebuild the embedded LLM runtime (xllamacpp, same version) from source for this
# CPU (-march=native, AVX-512 where present). ~12 minutes on 2 cores, needs a C++ compiler
# and cmake; prompt processing measured ~1.35x the prebuilt wheel here. Offline-safe:
# the parts that would fetch from the internet (llguidance, BoringSSL, web UI) are off.
XLLAMACPP := $(shell grep -o 'xllamacpp==[0-9.]*' pyproject.toml)
native-llm: setup
	mkdir -p build/native-llm
	TMPDIR=$(CURDIR)/build/native-llm NPROC=$$(nproc) \
	CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_LLGUIDANCE=OFF \
	  -DLLAMA_BUILD_BORINGSSL=OFF -DLLAMA_USE_PREBUILT_UI=OFF" \
	$(BIN)/pip install --no-deps --force-reinstall --no-binary xllamacpp '$(XLLAMACPP)'
	$(BIN)/python -c "import xllamacpp; print(xllamacpp.get_system_info())"

bench: setup
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done
	$(BIN)/python benchmarks/report.py

eval-smoke: setup
	$(BIN)/news-rag eval evals/smoke.yaml --out eval-runs/smoke

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
