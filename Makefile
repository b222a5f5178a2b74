# TrustAudit: `make demo` and `make test` are all a new machine needs (Debian with Swift).
# Each target installs the Debian packages it needs first (scripts/install-deps; root or sudo).

SWIFT        ?= swift
BUILD_FLAGS  ?=
DEBUG_BIN     = .build/debug
RELEASE_BIN   = .build/release
SAMPLE_NOW    = 2026-11-24T00:00:00Z
DEMO_DC_DIR   = .build-testdc/demo
DEMO_REPORTS ?= $(CURDIR)/Reports/

.PHONY: all build release deps demo demo-dc demo-dc-stop test unit-test integration-test bench lint samples clean

all: build

deps:
	scripts/install-deps build

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product trustaudit

release: deps
	$(SWIFT) build -c release $(BUILD_FLAGS) --product trustaudit
	$(SWIFT) build -c release $(BUILD_FLAGS) --product trustaudit-sample

# Audits the bundled sample domain (Samples/, made by trustaudit-sample at $(SAMPLE_NOW); --now keeps
# its ages as they were when it was exported) and writes the three reports into Reports/.
demo:
	scripts/install-deps demo
	$(SWIFT) build $(BUILD_FLAGS) --product trustaudit
	$(DEBUG_BIN)/trustaudit audit --ldif Samples/corp.example.ldif --inventory Samples/inventory.txt \
		--now $(SAMPLE_NOW) --output Reports/
	@echo
	@echo "Open $(CURDIR)/Reports/report.html in a browser; findings.csv and findings.json are beside it."

# Starts a seeded throwaway Samba AD DC on 127.0.0.2 and prints the command that audits it live.
# The command is printed with every path spelled out, so it works pasted into any shell.
demo-dc:
	scripts/install-deps test
	$(SWIFT) build $(BUILD_FLAGS) --product trustaudit
	scripts/testdc start $(DEMO_DC_DIR)
	@eval "$$(scripts/testdc env $(DEMO_DC_DIR))" && echo && \
		echo "A seeded DC is running (stop it with: make demo-dc-stop). Audit it live:" && echo && \
		echo "  $(CURDIR)/$(DEBUG_BIN)/trustaudit audit --uri $$TRUSTAUDIT_TEST_DC_URI_LDAPS --ca-file $$TRUSTAUDIT_TEST_DC_CA_FILE \\" && \
		echo "      --bind-dn $$TRUSTAUDIT_TEST_DC_BIND_DN --password-file $$TRUSTAUDIT_TEST_DC_PASSWORD_FILE \\" && \
		echo "      --inventory $$TRUSTAUDIT_TEST_DC_INVENTORY_FILE --output $(DEMO_REPORTS)" && echo

demo-dc-stop:
	scripts/testdc stop $(DEMO_DC_DIR)

# Every test: unit tests, the CLI end to end, and the integration tests against a throwaway Samba DC
# (which the tests start themselves; under CI=true they must run).
test:
	scripts/install-deps test
	$(MAKE) lint
	$(SWIFT) build --build-tests $(BUILD_FLAGS)
	$(SWIFT) test --skip-build $(BUILD_FLAGS)

unit-test:
	scripts/install-deps build
	$(SWIFT) test $(BUILD_FLAGS) --skip IntegrationTests

integration-test:
	scripts/install-deps test
	$(SWIFT) test $(BUILD_FLAGS) --filter IntegrationTests

bench:
	scripts/install-deps bench
	scripts/bench

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

# Regenerates the bundled sample (deterministic: the same bytes every time).
samples:
	$(SWIFT) build $(BUILD_FLAGS) --product trustaudit-sample
	$(DEBUG_BIN)/trustaudit-sample --computers 300 --seed 1 --now $(SAMPLE_NOW) \
		--inventory Samples/inventory.txt --output Samples/corp.example.ldif

clean:
	rm -rf .build .build-testdc
