#!/usr/bin/env bash
# Local container images for the real nodes: no registry, no Docker. Each is built once with
# maintained tools (umoci and skopeo from Debian; mmdebstrap for Debian userlands) into
# ${KUBEPOLARIS_TOOLCHAIN_DIR:-~/.cache/kubepolaris-toolchain}/images/<name>-<hash>.tar (a
# docker-archive), where <hash> covers every input (the image's recipe, the files copied in, the
# Debian suite). Nodes load them with `ctr -n k8s.io images import` (scripts/cluster/parts/real-nodes.sh).
#
#   scripts/cluster/images.sh --dir        print the images folder
#   scripts/cluster/images.sh pause        build if needed; print the image reference (last line)
#   scripts/cluster/images.sh busybox      the same for the test image
#   scripts/cluster/images.sh --tar <name> build if needed; print the tar's path
#
# Images:
#   pause  the pod sandbox (containerd's sandbox_image; registry.k8s.io is not reachable here):
#          Debian's static busybox, a shell that sleeps until it is told to stop, as 65535:65535.
#   busybox Debian's static busybox with every applet linked (sh, httpd, wget, nslookup, nc), as
#          65534:65534: what the cluster tests run in pods.
#   backend the KubePolaris backend on a Debian minimal userland (see backend_recipe).
#   frontend the KubePolaris web UI (scripts/app/frontend.sh builds it) served by Debian's nginx as
#          user nginx (101:101); the program mounts its own nginx.conf (see frontend_recipe).
#   database MariaDB 10.11 from Debian's mariadb-server (with Galera 4 and socat) and mariadb-backup:
#          the local stack's Galera members (components/database/galera/start.sh is their command,
#          as with the official mariadb image), and with `database.members: 1` a stand-in for MySQL 8
#          through an entrypoint of ours (images/database-entrypoint.sh) doing what the program
#          expects of the official MySQL image (see database_recipe).
#   traefik the edge controller the local stack installs (scripts/edge/traefik.sh's build).
#   coredns cluster DNS, run as pods in kube-system (scripts/cluster/ensure.sh --node's build).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${KUBEPOLARIS_TOOLCHAIN_DIR:-$HOME/.cache/kubepolaris-toolchain}"
DIR="$ROOT/images"
REPO_PREFIX=kubepolaris.local

say() { printf '[images] %s\n' "$*" >&2; }
die() { echo "images.sh: $*" >&2; exit 1; }

hash_of() { # <recipe> <inputs...>: the recipe's code, files (by content) and strings
  local x
  {
    declare -f build_once "$1" "${1}_config"
    shift
    # Files by content only: the same inputs from another checkout give the same hash.
    for x in "$@"; do if [[ -f "$x" ]]; then sha256sum < "$x"; else echo "$x"; fi; done
  } | sha256sum | cut -c1-12
}

TAR_ONLY=0
# <name> <hash> <recipe function> [<reference>]: the tar, made once under a lock; prints the
# reference (default kubepolaris.local/<name>:<hash>), or with --tar the tar's path.
build_once() {
  local name="$1" tag="$2" recipe="$3" out="$DIR/$1-$2.tar" ref="${4:-$REPO_PREFIX/$1:$2}"
  if [[ ! -f "$out" ]]; then
    mkdir -p "$DIR"
    exec 7>"$DIR/.$name.lock"
    flock 7
    if [[ ! -f "$out" ]]; then
      local work start=$SECONDS
      for t in umoci skopeo; do command -v "$t" >/dev/null || die "'$t' is missing (scripts/cluster/ensure.sh --node installs it)"; done
      work="$(mktemp -d)"
      # shellcheck disable=SC2064
      trap "rm -rf '$work'" EXIT
      say "building $ref"
      umoci init --layout "$work/oci" >&2
      umoci new --image "$work/oci:img" >&2
      umoci unpack --image "$work/oci:img" "$work/bundle" >&2
      "$recipe" "$work/bundle/rootfs" "$work"
      umoci repack --image "$work/oci:img" "$work/bundle" >&2
      "${recipe}_config" "$work/oci:img"
      rm -f "$DIR/$name"-*.tar
      skopeo --insecure-policy copy --quiet "oci:$work/oci:img" "docker-archive:$out.tmp:$ref" >&2
      mv "$out.tmp" "$out"
      say "built $ref in $(( SECONDS - start ))s ($(du -h "$out" | cut -f1))"
    fi
  fi
  if [[ $TAR_ONLY == 1 ]]; then echo "$out"; else echo "$ref"; fi
}

# ----------------------------------------------------------------------------- pause
BUSYBOX=/bin/busybox
pause_recipe() { # <rootfs>
  [[ -x "$BUSYBOX" ]] || die "$BUSYBOX is missing (Debian busybox-static)"
  mkdir -p "$1/bin"
  install -m 0755 "$BUSYBOX" "$1/bin/busybox"
  ln -s busybox "$1/bin/sh"
  ln -s busybox "$1/bin/sleep"
}
pause_recipe_config() { # <image>
  umoci config --image "$1" --os linux --architecture amd64 --config.user 65535:65535 \
    --config.entrypoint /bin/sh --config.entrypoint -c \
    --config.entrypoint 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done' >&2
}
pause() { build_once pause "$(hash_of pause_recipe "$BUSYBOX")" pause_recipe; }

busybox_recipe() { # <rootfs>
  [[ -x "$BUSYBOX" ]] || die "$BUSYBOX is missing (Debian busybox-static)"
  mkdir -p "$1/bin" "$1/tmp"
  chmod 1777 "$1/tmp"
  install -m 0755 "$BUSYBOX" "$1/bin/busybox"
  "$BUSYBOX" --list | while read -r applet; do [[ "$applet" == busybox ]] || ln -sf busybox "$1/bin/$applet"; done
}
busybox_recipe_config() { # <image>
  umoci config --image "$1" --os linux --architecture amd64 --config.user 65534:65534 \
    --config.env PATH=/bin --config.entrypoint /bin/sh >&2
}
busybox() { build_once busybox "$(hash_of busybox_recipe "$BUSYBOX")" busybox_recipe; }

# The app's images are named where the local stack names them: Pulumi.local.yaml.
STACK_FILE="$HERE/../../Pulumi.local.yaml"
stack_image() { # <path in the stack's config, e.g. images.backend>
  node -e '
    const yaml = require(require.resolve("js-yaml", { paths: [process.argv[1]] }));
    const cfg = yaml.load(require("fs").readFileSync(process.argv[2], "utf8")).config;
    const [top, ...keys] = process.argv[3].split(".");
    const v = keys.reduce((o, k) => o?.[k], cfg["kubepolaris:" + top]);
    if (typeof v !== "string" || !v.startsWith("kubepolaris.local/")) {
      console.error(`images.sh: ${process.argv[2]}: kubepolaris:${process.argv[3]} is ${JSON.stringify(v)}, not a kubepolaris.local/ image`);
      process.exit(1);
    }
    console.log(v);' "$HERE/../.." "$STACK_FILE" "$1"
}

# ------------------------------------------------------------------- Debian userlands
# mmdebstrap --variant=minbase into the unpacked image's rootfs. apt's lists and caches are not kept.
SUITE=bookworm
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# The mirrors (mmdebstrap MIRROR arguments, part of each image's hash) and the keyring to check them
# with. On a Debian $SUITE host, its own apt sources: whatever mirror or proxy it is configured for.
# Anywhere else (an Ubuntu runner's sources are Ubuntu's), Debian's own mirror, checked with Debian's
# archive keyring, which such a host's apt does not trust.
debian_sources() { # <os-release file>: sets MIRRORS and KEYRING
  local host=""
  [[ -f "$1" ]] && host="$(. "$1" && echo "${ID:-} ${VERSION_CODENAME:-}")"
  if [[ "$host" == "debian $SUITE" ]]; then
    MIRRORS=(/etc/apt/sources.list.d/debian.sources)
    [[ -f "${MIRRORS[0]}" ]] || MIRRORS=(/etc/apt/sources.list)
    KEYRING=""
  else
    MIRRORS=("deb http://deb.debian.org/debian $SUITE main"
      "deb http://deb.debian.org/debian $SUITE-updates main"
      "deb http://deb.debian.org/debian-security $SUITE-security main")
    KEYRING="$DEBIAN_KEYRING"
  fi
}
debian_sources /etc/os-release
debian_rootfs() { # <rootfs> <packages, comma-separated> [mmdebstrap options...]
  local rootfs="$1" packages="$2" keyring=(); shift 2
  if [[ -n "$KEYRING" ]]; then
    [[ -f "$KEYRING" ]] || die "$KEYRING is missing, needed to check Debian's mirror from a non-Debian host: install the package debian-archive-keyring (scripts/cluster/ensure.sh --node does)"
    keyring=(--keyring="$KEYRING")
  fi
  command -v mmdebstrap >/dev/null || die "'mmdebstrap' is missing (scripts/cluster/ensure.sh --node installs it)"
  rmdir "$rootfs"
  mmdebstrap --quiet --variant=minbase --include="$packages" --dpkgopt='path-exclude=/usr/share/{doc,man,info,locale}/*' \
    "${keyring[@]}" "$@" "$SUITE" "$rootfs" "${MIRRORS[@]}" >&2
  rm -rf "$rootfs"/var/cache/apt/* "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*
}

# ------------------------------------------------------------------------- frontend
# Where the release's Dockerfile.frontend puts the site (/usr/share/nginx/html) and as the official
# nginx image's user (nginx, 101:101), which app/kubepolaris.ts's FRONTEND names; nginx is
# Debian's nginx-light, whose mime.types is /etc/nginx/mime.types. The configuration is the
# program's (a ConfigMap it mounts), never the image's; with sh, curl and tzdata as upstream.
frontend_recipe() { # <rootfs>
  debian_rootfs "$1" nginx-light,curl,tzdata,ca-certificates \
    --essential-hook='echo "nginx:x:101:" >> "$1/etc/group"' \
    --essential-hook='echo "nginx:x:101:101:nginx:/nonexistent:/usr/sbin/nologin" >> "$1/etc/passwd"'
  rm -rf "$1/usr/share/nginx/html" "$1/etc/nginx/sites-enabled"/* "$1/var/www/html"
  mkdir -p "$1/usr/share/nginx"
  cp -r "$FRONTEND_DIST" "$1/usr/share/nginx/html"
  chown -R 101:101 "$1/usr/share/nginx/html"
}
frontend_recipe_config() { # <image>
  umoci config --image "$1" --os linux --architecture amd64 --config.user 101:101 \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.env TZ=Asia/Shanghai \
    --config.exposedports 80/tcp --config.cmd nginx --config.cmd -g --config.cmd 'daemon off;' >&2
}
frontend() {
  [[ -f "$HERE/../app/frontend.sh" ]] || die "scripts/app/frontend.sh (the UI build) is missing"
  FRONTEND_DIST="$(bash "$HERE/../app/frontend.sh" | tail -1)" || die "scripts/app/frontend.sh failed"
  local ref; ref="$(stack_image images.frontend)" || exit 1
  build_once frontend "$(hash_of frontend_recipe "$ref" "${MIRRORS[@]}" "$SUITE" $(find "$FRONTEND_DIST" -type f | sort))" frontend_recipe "$ref"
}

# ------------------------------------------------------------------------- database
# MySQL's own packages are not reachable here. User and group mysql are 999:999 (the official
# image's, which components/database/inClusterMysql.ts runs as), made before the packages are
# installed (passwd's tools are not there yet, so as lines in /etc/group and /etc/passwd); mariadbd listens on every address of the pod (Debian's default is 127.0.0.1).
DB_ENTRYPOINT="$HERE/images/database-entrypoint.sh"
database_recipe() { # <rootfs>
  debian_rootfs "$1" mariadb-server,mariadb-client,mariadb-backup \
    --essential-hook='echo "mysql:x:999:" >> "$1/etc/group"' \
    --essential-hook='echo "mysql:x:999:999:MariaDB Server:/nonexistent:/usr/sbin/nologin" >> "$1/etc/passwd"'
  printf '[mysqld]\nbind-address = 0.0.0.0\n' > "$1/etc/mysql/mariadb.conf.d/99-kubepolaris.cnf"
  install -m 0755 "$DB_ENTRYPOINT" "$1/usr/local/bin/database-entrypoint"
  rm -rf "$1/var/lib/mysql"/* && mkdir -p "$1/run/mysqld" && chown 999:999 "$1/var/lib/mysql" "$1/run/mysqld"
}
database_recipe_config() { # <image>
  umoci config --image "$1" --os linux --architecture amd64 --config.user 999:999 \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --config.exposedports 3306/tcp --config.entrypoint /usr/local/bin/database-entrypoint >&2
}
database() {
  local ref; ref="$(stack_image database.image)" || exit 1
  build_once database "$(hash_of database_recipe "$ref" "$DB_ENTRYPOINT" "${MIRRORS[@]}" "$SUITE")" database_recipe "$ref"
}

# -------------------------------------------------------------------------- backend
# The KubePolaris backend (scripts/app/backend.sh builds it from the release source) where the
# release's Dockerfile.backend puts it: /app/kubepolaris, /app/configs, writable /app/{logs,data,
# grafana/secrets}, as user and group kubepolaris (1000:1000); with sh, curl and CA certificates.
APP_SRC="${KUBEPOLARIS_APP_SRC:-$HERE/../../../shared/vendor/kubepolaris-$(. "$HERE/../toolchain.versions"; echo "$KUBEPOLARIS_APP_VERSION")}"
backend_recipe() { # <rootfs>
  debian_rootfs "$1" ca-certificates,curl,tzdata \
    --customize-hook='echo "kubepolaris:x:1000:" >> "$1/etc/group"' \
    --customize-hook='echo "kubepolaris:x:1000:1000::/app:/bin/sh" >> "$1/etc/passwd"'
  mkdir -p "$1/app/logs" "$1/app/data" "$1/app/grafana/secrets"
  install -m 0755 "$BACKEND_BIN" "$1/app/kubepolaris"
  cp -r "$APP_SRC/configs" "$1/app/configs"
  chown -R 1000:1000 "$1/app"
}
backend_recipe_config() { # <image>
  umoci config --image "$1" --os linux --architecture amd64 --config.user 1000:1000 --config.workingdir /app \
    --config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --config.env TZ=Asia/Shanghai \
    --config.exposedports 8080/tcp --config.cmd /app/kubepolaris >&2
}
backend() {
  BACKEND_BIN="$(bash "$HERE/../app/backend.sh" | tail -1)" || die "scripts/app/backend.sh failed"
  local ref; ref="$(stack_image images.backend)" || exit 1
  build_once backend "$(hash_of backend_recipe "$ref" "$BACKEND_BIN" "${MIRRORS[@]}" "$SUITE" $(find "$APP_SRC/configs" -type f | sort))" backend_recipe "$ref"
}

# ------------------------------------------------------------------ Go binaries alone
# A Go program (built here with cgo on, linking the host's glibc; or an official static release) with
# exactly the shared objects `ldd` names (none when static), and CA certificates: the shape of a
# distroless "base" image, no shell, no package manager.
go_binary_rootfs() { # <rootfs> <binary> <path in the image>
  local rootfs="$1" bin="$2" dest="$3" lib
  mkdir -p "$rootfs/etc/ssl/certs" "$rootfs/tmp" "$(dirname "$rootfs$dest")"
  chmod 1777 "$rootfs/tmp"
  install -m 0755 "$bin" "$rootfs$dest"
  for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
}
go_binary_inputs() { # <binary>: what the image is made of, for its hash
  echo "$1"; ldd "$1" | grep -o '/[^ ]*' | xargs -r readlink -f; echo /etc/ssl/certs/ca-certificates.crt
}

# The edge controller (scripts/edge/traefik.sh builds it; components/edgeController.ts runs it), as
# the official image's unprivileged user 65532.
traefik_recipe() { go_binary_rootfs "$1" "$TRAEFIK_BIN" /traefik; }
traefik_recipe_config() { # <image>
  umoci config --image "$1" --os linux --architecture amd64 --config.user 65532:65532 \
    --config.exposedports 8000/tcp --config.exposedports 8443/tcp --config.entrypoint /traefik >&2
}
traefik() {
  TRAEFIK_BIN="$(bash "$HERE/../edge/traefik.sh" | tail -1)" || die "scripts/edge/traefik.sh failed"
  local ref; ref="$(stack_image edge.controller.image)" || exit 1
  build_once traefik "$(hash_of traefik_recipe "$ref" $(go_binary_inputs "$TRAEFIK_BIN"))" traefik_recipe "$ref"
}

# Cluster DNS (scripts/cluster/parts/real-nodes.sh runs it as pods in kube-system), as 65532.
coredns_recipe() { go_binary_rootfs "$1" "$COREDNS_BIN" /coredns; }
coredns_recipe_config() { # <image>
  umoci config --image "$1" --os linux --architecture amd64 --config.user 65532:65532 \
    --config.exposedports 53/udp --config.exposedports 53/tcp --config.entrypoint /coredns >&2
}
coredns() {
  COREDNS_BIN="$(bash "$HERE/ensure.sh" --node --check | tail -1)/coredns"
  [[ -x "$COREDNS_BIN" ]] || die "CoreDNS is not built (scripts/cluster/ensure.sh --node)"
  build_once coredns "$(hash_of coredns_recipe $(go_binary_inputs "$COREDNS_BIN"))" coredns_recipe
}

if [[ "${1:-}" == --tar ]]; then TAR_ONLY=1; shift; fi
case "${1:-}" in
  --dir) echo "$DIR" ;;
  pause) pause ;;
  busybox) busybox ;;
  backend) backend ;;
  frontend) frontend ;;
  database) database ;;
  traefik) traefik ;;
  coredns) coredns ;;
  -h|--help|"") sed -n '2,29p' "$0" ;;
  *) die "unknown image '$1'; allowed: pause, busybox, backend, frontend, database, traefik, coredns" ;;
esac
