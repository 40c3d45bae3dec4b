# sbx — sandbox runtime. See README.md.
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR   = $(PREFIX)/bin
LIBDIR   = $(PREFIX)/lib
INCDIR   = $(PREFIX)/include
DATADIR  = $(PREFIX)/share/sbx

CC      ?= cc
BUILD   ?= build
V       ?= 0
Q        = $(if $(filter 1,$(V)),,@)
CFLAGS  ?= -O2 -g
WARN     = -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation
CPPFLAGS_SBX = -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc -DSBX_DATADIR='"$(DATADIR)"'
ALLCFLAGS = $(CPPFLAGS_SBX) $(WARN) $(CFLAGS) -fPIC -fvisibility=hidden
LDLIBS_SBX = -lseccomp -lcap -lcgroup -lpthread

# src/ is in layers, one folder each (docs/architecture.md; tools/check-layers).
# libsbx is every folder but cli/; the CLI's own code (cli/) is not in it.
LAYERS   = base proto core state drivers pool api dockerapi
LIB_SRC  = $(foreach d,$(LAYERS),$(wildcard src/$(d)/*.c))
CLI_SRC  = $(wildcard src/cli/*.c)
# The OCI runtime (build/sbx-oci, docs/oci.md): its own binary, not in libsbx.
OCIRT_SRC = $(wildcard src/ocirt/*.c)
OCIRT_OBJ = $(OCIRT_SRC:src/%.c=$(BUILD)/obj/%.o)
OCIRT_LIB_OBJ = $(filter-out $(BUILD)/obj/ocirt/main.o,$(OCIRT_OBJ))
LIB_OBJ  = $(LIB_SRC:src/%.c=$(BUILD)/obj/%.o)
CLI_OBJ  = $(CLI_SRC:src/%.c=$(BUILD)/obj/%.o)
# The CLI's objects but its main(), for unit tests of CLI logic.
CLI_LIB_OBJ = $(filter-out $(BUILD)/obj/cli/main.o,$(CLI_OBJ))
GEN_OBJ  = $(BUILD)/obj/gen/seccomp_bpf.o $(BUILD)/obj/gen/pyrunner.o
UNIT_SRC = $(wildcard tests/unit/test_*.c)
UNIT_BIN = $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

# slirp4netns and nftables: `--net egress` (the user-mode network and its
# allowlist, loaded with nft into the sandbox's network namespace).
DEPS_PKGS = build-essential pkg-config libseccomp-dev libcap-dev libcgroup-dev \
            libcmocka-dev debootstrap iproute2 ca-certificates clang-format strace locales \
            slirp4netns nftables
# The docker/podman driver's tests (podman runs here as root; crun refuses
# hybrid cgroup hosts, runc does not; catatonit is podman's --init).
# docker.io brings dockerd, containerd and tini (docker's --init): the
# integration tests start a private dockerd of their own (never the
# system's).
# Issue 13 (build/sbx-oci): golang-go builds the OCI validation suite
# (runtime-tools, vendored in ../shared/vendor) offline; containerd is
# Debian's package, the one docker.io already depends on (ctr, the runc
# shim v2); the OCI tests start a private containerd of their own.
OCI_PKGS  = podman runc catatonit golang-go containerd
# A private dockerd for the docker driver's tests (tests/integration/engines.sh),
# installed without its recommends: cgroupfs-mount would mount cgroup
# hierarchies, which sbx and its tests never touch.
NOREC_PKGS = docker.io
# tools/bench's peers (crun; runc and podman above) and its plot.
BENCH_PKGS = bubblewrap crun gnuplot-nox
# The Docker API tests' clients (tests/dockerapi: dockerode). Installed only when
# node or npm is missing: a nodejs from elsewhere (NodeSource) bundles npm and
# conflicts with Debian's npm package.
DAPI_PKGS = nodejs npm
VM_PKGS   = qemu-system-x86 busybox-static cpio xz-utils kmod

.PHONY: all deps rootfs rootfs-numpy test unit integration asan demo install uninstall format \
        format-check clean vmtest bench bench-smoke layers compat dockerapi-deps oci-validation

all: $(BUILD)/sbx $(BUILD)/sbx-oci $(BUILD)/libsbx.a $(BUILD)/libsbx.so $(BUILD)/sbx.pc

$(BUILD)/obj/%.o: src/%.c $(wildcard src/*/*.h) include/sbx.h
	@mkdir -p $(dir $@)
	@echo "  CC $<"; $(CC) $(ALLCFLAGS) -c -o $@ $<

# The seccomp program is compiled once, at build time, by the same code.
$(BUILD)/gen-seccomp: tools/gen-seccomp.c $(LIB_OBJ) $(BUILD)/obj/gen/pyrunner.o
	$(Q)$(CC) $(ALLCFLAGS) -o $@ $^ $(LDLIBS_SBX)

$(BUILD)/gen/seccomp_bpf.c: $(BUILD)/gen-seccomp
	@mkdir -p $(dir $@)
	$(Q)$< > $@.tmp && mv $@.tmp $@

# The pre-started Python interpreter's source, embedded as bytes, and the
# zygote's (the same runner with the zygote appended).
$(BUILD)/gen/pyrunner.c: src/drivers/pyrunner.py src/drivers/zygote.py
	@mkdir -p $(dir $@)
	$(Q){ echo '/* Generated from src/drivers/pyrunner.py and zygote.py. Do not edit. */'; \
	  echo 'const char sbx_pyrunner_src[] = {'; \
	  od -An -v -tx1 src/drivers/pyrunner.py | sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00};'; \
	  echo 'const char sbx_zygote_src[] = {'; \
	  cat src/drivers/pyrunner.py src/drivers/zygote.py | od -An -v -tx1 | \
	    sed -e 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '0x00};'; } > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(ALLCFLAGS) -c -o $@ $<

$(BUILD)/libsbx.a: $(LIB_OBJ) $(GEN_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/libsbx.so: $(LIB_OBJ) $(GEN_OBJ)
	$(Q)$(CC) $(ALLCFLAGS) -shared -Wl,-soname,libsbx.so.0 -o $@ $^ $(LDLIBS_SBX)

$(BUILD)/sbx: $(CLI_OBJ) $(BUILD)/libsbx.a
	$(Q)$(CC) $(ALLCFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libsbx.a $(LDLIBS_SBX)

$(BUILD)/sbx-oci: $(OCIRT_OBJ) $(BUILD)/libsbx.a
	$(Q)$(CC) $(ALLCFLAGS) -o $@ $(OCIRT_OBJ) $(BUILD)/libsbx.a $(LDLIBS_SBX)

$(BUILD)/sbx.pc: sbx.pc.in Makefile
	@mkdir -p $(BUILD)
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
	    -e 's|@INCDIR@|$(INCDIR)|g' -e 's|@VERSION@|$(shell sed -n 's/^#define SBX_VERSION "\(.*\)"/\1/p' include/sbx.h)|' $< > $@

# Unit tests link the static library's objects (hidden symbols are fine there).
$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libsbx.a $(CLI_LIB_OBJ) $(OCIRT_LIB_OBJ)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS_SBX) $(WARN) $(CFLAGS) -o $@ $< $(CLI_LIB_OBJ) $(OCIRT_LIB_OBJ) $(BUILD)/libsbx.a -lcmocka $(LDLIBS_SBX)

# Install exactly what is needed, only when something is missing.
deps:
	@missing="" norec=""; for p in $(DEPS_PKGS) $(VM_PKGS) $(OCI_PKGS) $(BENCH_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	command -v node >/dev/null && command -v npm >/dev/null || missing="$$missing $(DAPI_PKGS)"; \
	for p in $(NOREC_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || norec="$$norec $$p"; \
	done; \
	if [ -n "$$missing$$norec" ]; then \
	  echo "installing:$$missing$$norec"; \
	  apt-get update -qq && \
	  { [ -z "$$missing" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; } && \
	  { [ -z "$$norec" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$norec >/dev/null; }; \
	else echo "deps: all installed"; fi

rootfs:
	tools/mkrootfs

# The rootfs with python3-numpy for tools/bench's zygote rows (issue 10; a
# no-op while its recipe is unchanged). Not part of `make test`.
NUMPY_ROOTFS = rootfs/python-numpy
rootfs-numpy:
	tools/mkrootfs --out $(NUMPY_ROOTFS) --packages python3-numpy

# CPython's regression tests under chroot and under sbx (tools/compat; builds
# rootfs/compat on demand). Not part of `make test`: it takes ~10 minutes.
# MODULES="test_os test_posix" chooses the modules.
compat: all
	tools/compat $(MODULES)

demo: deps all rootfs
	$(BUILD)/sbx run --workspace examples:ro -- python3 /workspace/hello.py

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

# The pinned npm packages of tests/dockerapi (node_modules is not committed;
# nothing is fetched when it already matches package-lock.json).
dockerapi-deps:
	cd tests/dockerapi && { npm ls --all >/dev/null 2>&1 || npm ci --no-audit --no-fund --ignore-scripts; }

# The OCI runtime validation suite (opencontainers/runtime-tools, vendored:
# ../shared/vendor/README.md), built offline with Debian's golang-go into
# build/oci-validation/runtime-tools, only when missing (~1 min on 2 cores);
# its Go caches stay in build/oci-validation and are removed after the
# build. tests/integration/t_oci.sh runs its validation/*/*.t against runc
# and build/sbx-oci.
OCI_SUITE_TGZ ?= ../shared/vendor/runtime-tools-260e151.tar.gz
OCI_SUITE_DIR  = build/oci-validation
OCI_SUITE_STAMP = $(OCI_SUITE_DIR)/runtime-tools/.built
oci-validation: $(OCI_SUITE_STAMP)
$(OCI_SUITE_STAMP):
	@command -v go >/dev/null || { echo "oci-validation: go not found (make deps installs golang-go)"; exit 1; }
	@[ -f $(OCI_SUITE_TGZ) ] || { echo "oci-validation: $(OCI_SUITE_TGZ) missing"; exit 1; }
	rm -rf $(OCI_SUITE_DIR)/runtime-tools $(OCI_SUITE_DIR)/go
	mkdir -p $(OCI_SUITE_DIR)/go
	tar xzf $(OCI_SUITE_TGZ) -C $(OCI_SUITE_DIR)
	cd $(OCI_SUITE_DIR)/runtime-tools && \
	  HOME=$(abspath $(OCI_SUITE_DIR)/go) GOPATH=$(abspath $(OCI_SUITE_DIR)/go/path) \
	  GOCACHE=$(abspath $(OCI_SUITE_DIR)/go/cache) GOFLAGS=-mod=vendor GOPROXY=off GO111MODULE=on \
	  nice -n 5 $(MAKE) -j2 COMMIT=260e151 runtimetest validation-executables
	@n=$$(ls $(OCI_SUITE_DIR)/runtime-tools/validation/*/*.t | wc -l); \
	  [ -x $(OCI_SUITE_DIR)/runtime-tools/runtimetest ] && [ $$n -ge 58 ] || \
	  { echo "oci-validation: runtimetest or validation programs missing ($$n .t)"; exit 1; }
	chmod -R u+w $(OCI_SUITE_DIR)/go && rm -rf $(OCI_SUITE_DIR)/go
	touch $@

integration: all dockerapi-deps oci-validation
	tests/integration/run.sh $(BUILD)/sbx

# The same code built with AddressSanitizer and UBSan, unit and integration.
asan: dockerapi-deps oci-validation
	$(MAKE) BUILD=build/asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    LDLIBS_SBX="$(LDLIBS_SBX) -fsanitize=address,undefined" all unit
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    tests/integration/run.sh build/asan/sbx

vmtest: all
	tools/vmtest/run-v2-suite

test: deps all rootfs
	$(MAKE) format-check
	$(MAKE) layers
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) bench-smoke
	$(MAKE) asan
	$(MAKE) vmtest

# No folder of src/ uses one above it, no module circles (includes and links).
layers: all
	tools/check-layers $(BUILD)

# Builds rootfs/python-numpy when missing; if that fails, its rows say why.
bench: deps all rootfs dockerapi-deps
	@[ -d $(NUMPY_ROOTFS) ] || $(MAKE) rootfs-numpy || \
	  echo "bench: no $(NUMPY_ROOTFS): the numpy rows of tools/bench are not run"
	tools/bench

# The benchmark as a smoke test (make test): every row once, no figure
# asserted; fails if a row cannot run, fails, or leaves anything behind.
bench-smoke: all rootfs rootfs-numpy dockerapi-deps
	tools/bench --quick --out $(BUILD)/bench/smoke

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR) $(DESTDIR)$(DATADIR)
	install -m 0755 $(BUILD)/sbx $(DESTDIR)$(BINDIR)/sbx
	install -m 0755 $(BUILD)/sbx-oci $(DESTDIR)$(BINDIR)/sbx-oci
	install -m 0644 $(BUILD)/libsbx.a $(DESTDIR)$(LIBDIR)/libsbx.a
	install -m 0755 $(BUILD)/libsbx.so $(DESTDIR)$(LIBDIR)/libsbx.so.0
	ln -sf libsbx.so.0 $(DESTDIR)$(LIBDIR)/libsbx.so
	install -m 0644 include/sbx.h $(DESTDIR)$(INCDIR)/sbx.h
	install -m 0644 $(BUILD)/sbx.pc $(DESTDIR)$(LIBDIR)/pkgconfig/sbx.pc
	@if [ -d rootfs/python ]; then cp -a rootfs/python rootfs/python.manifest.json $(DESTDIR)$(DATADIR)/; fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sbx $(DESTDIR)$(BINDIR)/sbx-oci $(DESTDIR)$(LIBDIR)/libsbx.a $(DESTDIR)$(LIBDIR)/libsbx.so \
	      $(DESTDIR)$(LIBDIR)/libsbx.so.0 $(DESTDIR)$(INCDIR)/sbx.h $(DESTDIR)$(LIBDIR)/pkgconfig/sbx.pc
	rm -rf $(DESTDIR)$(DATADIR)

FORMATTED = src/*/*.c src/*/*.h include/*.h tests/unit/*.c tests/integration/helpers/*.c tools/*.c

format:
	clang-format -i $(FORMATTED)

format-check:
	clang-format --dry-run -Werror $(FORMATTED)

clean:
	rm -rf build
