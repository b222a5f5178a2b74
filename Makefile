# TrustAudit: `make demo` and `make test` are all a new machine needs (Debian with Swift).
# Each target installs the Debian packages it needs first (scripts/install-deps; root or sudo).

SWIFT        ?= swift
BUILD_FLAGS  ?=
DEBUG_BIN     = .build/debug
RELEASE_BIN   = .build/release
SAMPLE_NOW    = 2026-11-24T00:00:00Z
DEMO_DC_DIR   = .build-testdc/demo
DEMO_REPORTS ?= $(CURDIR)/Reports/

.PHONY: all build release deps demo demo-dc demo-dc-stop test unit-test integration-test bench lint samples clean \
	install-binary install uninstall deb

# Where `make install` puts things: $(DESTDIR)$(PREFIX)/bin, share/trustaudit, share/man, share/doc.
PREFIX       ?= /usr/local
DESTDIR      ?=
bindir        = $(PREFIX)/bin
templatesdir  = $(PREFIX)/share/trustaudit/Templates
man1dir       = $(PREFIX)/share/man/man1
docdir        = $(PREFIX)/share/doc/trustaudit
examplesdir   = $(docdir)/examples
# The build directory of the installed binary; the packaging tests pass their own, because the
# `swift test` running them holds .build.
SCRATCH      ?= .build
# The Swift runtime and Foundation linked into the binary, and no $$ORIGIN rpath: the installed
# trustaudit needs no Swift toolchain, only the Debian libraries it links (libldap, libssl, ...).
# -z now: every symbol bound at start, so the relocations can be read-only (Debian's bindnow).
INSTALL_BUILD = $(SWIFT) build -c release --static-swift-stdlib --disable-local-rpath \
	-Xlinker -z -Xlinker now --scratch-path $(SCRATCH) $(BUILD_FLAGS) --product trustaudit
VERSION      := $(shell sed -n 's/^let version = "\(.*\)"$$/\1/p' Sources/trustaudit/Version.swift)

TEMPLATES     = $(sort $(wildcard Templates/*.html))
# The units name the binary, so they are installed with PATHS_SED; the other examples as they are.
EXAMPLE_UNITS = dist/systemd/trustaudit.service dist/systemd/trustaudit-failure@.service
EXAMPLE_FILES = dist/systemd/trustaudit.timer dist/trustaudit.json Samples/corp.example.ldif Samples/inventory.txt
# Every file `make install` writes (below $(DESTDIR)); `make uninstall` removes exactly these, and
# then only the directories that are TrustAudit's own, and only when they are empty.
INSTALLED     = $(bindir)/trustaudit $(TEMPLATES:Templates/%=$(templatesdir)/%) $(man1dir)/trustaudit.1 \
	$(addprefix $(examplesdir)/,$(notdir $(EXAMPLE_UNITS) $(EXAMPLE_FILES)))
OWN_DIRS      = $(examplesdir) $(docdir) $(templatesdir) $(PREFIX)/share/trustaudit
# The man page and the units name the default paths; the installed copies name the ones installed to.
PATHS_SED     = -e 's|/usr/local/bin/trustaudit|$(bindir)/trustaudit|g' \
	-e 's|/usr/local/share/trustaudit|$(PREFIX)/share/trustaudit|g' \
	-e 's|/usr/local/share/doc/trustaudit|$(docdir)|g'

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

# Not the packaging tests that build release (minutes) and install a package (root); make test runs them.
unit-test:
	scripts/install-deps build
	$(SWIFT) test $(BUILD_FLAGS) --skip IntegrationTests \
		--skip PackagingTests.InstallTests --skip PackagingTests.DebianPackageTests

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

# The release binary `make install` installs (the Swift runtime linked in).
install-binary: deps
	$(INSTALL_BUILD)

install: install-binary
	install -d $(DESTDIR)$(bindir) $(DESTDIR)$(templatesdir) $(DESTDIR)$(man1dir) $(DESTDIR)$(examplesdir)
	install -m 755 $(SCRATCH)/release/trustaudit $(DESTDIR)$(bindir)/trustaudit
	install -m 644 $(TEMPLATES) $(DESTDIR)$(templatesdir)/
	sed $(PATHS_SED) docs/trustaudit.1 > $(DESTDIR)$(man1dir)/trustaudit.1
	install -m 644 $(EXAMPLE_FILES) $(DESTDIR)$(examplesdir)/
	for unit in $(EXAMPLE_UNITS); do \
		sed $(PATHS_SED) $$unit > $(DESTDIR)$(examplesdir)/$${unit##*/} || exit 1; \
	done
	chmod 644 $(DESTDIR)$(man1dir)/trustaudit.1 $(addprefix $(DESTDIR)$(examplesdir)/,$(notdir $(EXAMPLE_UNITS)))

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	for dir in $(addprefix $(DESTDIR),$(OWN_DIRS)); do \
		if [ -d "$$dir" ]; then rmdir --ignore-fail-on-non-empty "$$dir"; fi; \
	done

# A Debian package of `make install PREFIX=/usr`, in $(SCRATCH)/deb/; lintian errors fail it.
deb:
	scripts/install-deps deb
	rm -rf $(abspath $(SCRATCH))/deb/root
	$(MAKE) install DESTDIR=$(abspath $(SCRATCH))/deb/root PREFIX=/usr SCRATCH=$(SCRATCH)
	scripts/build-deb $(abspath $(SCRATCH))/deb/root $(VERSION) $(abspath $(SCRATCH))/deb

clean:
	rm -rf .build .build-testdc .build-packaging
