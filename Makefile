# The two set-up commands: `make demo` and `make test`. Each installs missing system packages,
# builds in release mode and runs.
SWIFT ?= swift
CONFIG ?= release

.PHONY: deps build demo test bench clean

deps:
	@bash Scripts/install-deps.sh

build: deps
	$(SWIFT) build -c $(CONFIG)

# Synthetic videos, a TimeSformer baseline and the same with TIME, then top-1 on original and
# shuffled frames per subset (see configs/demo.yaml; output under runs/demo).
demo: build
	.build/$(CONFIG)/videossl demo

test: deps
	$(SWIFT) build -c $(CONFIG) --build-tests
	cd Examples/TIMEWithYourOwnModel && $(SWIFT) build -c $(CONFIG) && .build/$(CONFIG)/TIMEWithYourOwnModel
	cd Examples/CustomBackbone && $(SWIFT) build -c $(CONFIG) && .build/$(CONFIG)/CustomBackbone \
		&& .build/$(CONFIG)/CustomBackbone infer --help | grep -q factorised_tiny
	$(SWIFT) test -c $(CONFIG) --skip-build

bench: deps
	$(SWIFT) build -c release --product TensorCoreBenchmarks
	$(SWIFT) build -c release --product FlowBenchmarks
	.build/release/TensorCoreBenchmarks
	.build/release/FlowBenchmarks --no-opencv
	$(SWIFT) build -c release --product ProbeBenchmarks
	.build/release/ProbeBenchmarks --repeats 3 --no-python
	$(SWIFT) build -c release --product videossl
	.build/release/videossl bench --model timesformer_tiny_8x112 --time

clean:
	rm -rf .build
