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

.PHONY: app test setup browser lint bench eval-smoke native-llm llama-bench clean

app: setup
	$(BIN)/news-rag models --prepare
	-$(BIN)/news-rag models --build-runtime --background
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

# The embedded LLM runtime (xllamacpp, same version) built from source for this CPU
# (-march=native: AVX-512/VNNI where present; prompts ~1.4x faster than the prebuilt
# AVX2 wheel here). Cached in data/runtime, checked to load, the prebuilt wheel put back on
# any failure; a no-op where the prebuilt wheel already uses everything the CPU has. Needs
# g++ and cmake, ~8-10 minutes on 2 cores. `make app` starts it in the background.
native-llm: setup
	$(BIN)/news-rag models --build-runtime

# llama.cpp's own llama-bench, built for this CPU from the llama.cpp that the runtime
# vendors (same version): the limit bench_runtime.py / bench_speed.py compare against.
LLAMA_SRC := build/llama-bench/src
llama-bench: setup
	mkdir -p build/llama-bench
	test -d $(LLAMA_SRC) || { \
	  $(BIN)/pip download --quiet --no-deps --no-binary :all: -d build/llama-bench \
	    "$$(grep -o 'xllamacpp==[0-9.]*' pyproject.toml)" && \
	  mkdir -p $(LLAMA_SRC) && tar -xzf build/llama-bench/xllamacpp-*.tar.gz \
	    -C $(LLAMA_SRC) --strip-components=1; }
	cmake -S $(LLAMA_SRC)/thirdparty/llama.cpp -B build/llama-bench/build \
	  -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_LLGUIDANCE=OFF \
	  -DLLAMA_BUILD_BORINGSSL=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_BUILD_SERVER=OFF
	cmake --build build/llama-bench/build --target llama-bench -j$$(nproc)
	@echo "llama-bench: build/llama-bench/build/bin/llama-bench"

bench: setup
	# bench_speed.py only re-runs three of these side by side: skipped here
	for script in benchmarks/bench_*.py; do \
	  [ $$script = benchmarks/bench_speed.py ] || $(BIN)/python $$script || exit 1; done
	$(BIN)/python benchmarks/report.py

eval-smoke: setup
	$(BIN)/news-rag eval evals/smoke.yaml --out eval-runs/smoke

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
