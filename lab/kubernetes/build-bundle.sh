#!/usr/bin/env bash
# Builds the lab's Kubernetes bundle from Go modules (the Go module proxy is the only source) into a
# cache directory outside the checkout, keyed by the versions in versions.env. A second run finds
# every piece done and only prints the bundle path. Prints one progress line per binary.
#
#   bash lab/kubernetes/build-bundle.sh            # builds (or reuses) and prints the bundle dir
#   RUNOS_LAB_CACHE=/some/dir bash lab/kubernetes/build-bundle.sh
#
# Bundle layout (what `nodeward bundle import` takes):
#   bin/<name>            static binaries: kubeadm kubelet kubectl kube-apiserver ... containerd runc
#   cni/<plugin>          CNI plugins (bridge host-local loopback portmap)
#   images/<name>.tar     OCI image archives for kubeadm's control-plane images and pause
#   bundle.json           version and sha256 of every file above
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lab/kubernetes/versions.env
source "$here/versions.env"

cache_root=${RUNOS_LAB_CACHE:-/var/cache/runos-lab}
key="r$BUNDLE_RECIPE-k8s-$KUBERNETES_VERSION-etcd-$ETCD_VERSION-containerd-$CONTAINERD_VERSION-runc-$RUNC_VERSION-cni-$CNI_PLUGINS_VERSION"
out="$cache_root/bundles/$key"
work="$cache_root/work/$key"
mkdir -p "$out/bin" "$out/cni" "$out/images" "$work"
if [ -f "$out/bundle.json" ] && [ -f "$out/lab/netcheck.tar" ]; then
  echo "$out"
  exit 0
fi

for pkg in libseccomp-dev gcc libc6-dev nftables; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing_pkgs+=" $pkg"
done
if [ -n "${missing_pkgs:-}" ]; then
  echo "bundle: installing$missing_pkgs" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing_pkgs >/dev/null
fi

# Go 1.26 comes with these machines in /usr/local/go; a login shell has it on PATH, CI may not.
command -v go >/dev/null 2>&1 || export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null 2>&1 || {
  echo "bundle: Go is needed to build the lab's Kubernetes bundle (go.dev/dl, or the golang-go package)" >&2
  exit 1
}
export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
started=$(date +%s)
progress() { echo "bundle: [$(($(date +%s) - started))s] $*" >&2; }

# go build one package into $out/bin unless it is there already (the binary is written last, so a
# half-finished build never counts).
build() { # $1 = module dir, $2 = output path, $3 = package, rest = extra go build args
  local dir=$1 dest=$2 pkg=$3
  shift 3
  if [ -x "$dest" ]; then
    progress "$(basename "$dest"): cached"
    return
  fi
  progress "$(basename "$dest"): building $pkg"
  (cd "$dir" && go build -p 2 -trimpath "$@" -o "$dest.tmp" "$pkg")
  mv "$dest.tmp" "$dest"
  progress "$(basename "$dest"): done ($(du -h "$dest" | cut -f1))"
}

# A wrapper module at DIR that requires MODULE@VERSION and imports PKG... from a tools.go (a module
# with replace or exclude directives cannot be built with `go install pkg@version`). Once per DIR.
tools_module() { # $1 = dir, $2 = module@version, rest = packages
  local dir=$1 module=$2
  shift 2
  mkdir -p "$dir"
  [ -f "$dir/.ready" ] && return
  progress "resolving $module"
  (
    cd "$dir"
    rm -f go.mod go.sum
    go mod init "lab.local/$(basename "$dir")" >/dev/null 2>&1
    {
      printf '//go:build tools\n\npackage tools\n\nimport (\n'
      printf '\t_ "%s"\n' "$@"
      printf ')\n'
    } >tools.go
    go get "$module" >/dev/null
    go mod tidy >/dev/null
  )
  touch "$dir/.ready"
}

# --- Kubernetes: a wrapper module that replaces every staging module with its published tag.
k8s_mod="$work/k8s"
mkdir -p "$k8s_mod"
if [ ! -f "$k8s_mod/.ready" ]; then
  progress "resolving k8s.io/kubernetes@$KUBERNETES_VERSION and its staging modules"
  (
    cd "$k8s_mod"
    rm -f go.mod go.sum
    gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
    go mod init lab.local/k8sbins >/dev/null 2>&1
    go_line=$(sed -n 's/^go \(.*\)/\1/p' "$gomod")
    godebug=$(sed -n 's/^godebug \(.*\)/\1/p' "$gomod")
    go mod edit -go="$go_line"
    [ -n "$godebug" ] && go mod edit -godebug="$godebug"
    staging_tag="v0.${KUBERNETES_VERSION#v1.}"
    for m in $(sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging.*#\1#p' "$gomod"); do
      go mod edit -replace="$m=$m@$staging_tag"
    done
    go mod edit -require="k8s.io/kubernetes@$KUBERNETES_VERSION"
    cat >tools.go <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO
    go mod tidy >/dev/null
  )
  touch "$k8s_mod/.ready"
fi
minor=$(echo "$KUBERNETES_VERSION" | cut -d. -f2)
k8s_ldflags="-s -w"
for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
  k8s_ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  k8s_ldflags+=" -X $p.gitCommit=0000000000000000000000000000000000000000"
done
for cmd in kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
  build "$k8s_mod" "$out/bin/$cmd" "k8s.io/kubernetes/cmd/$cmd" -ldflags "$k8s_ldflags"
done

# --- etcd: its own main (the server module's go.mod has replace directives).
etcd_mod="$work/etcd"
mkdir -p "$etcd_mod/etcd" "$etcd_mod/etcdctl"
if [ ! -f "$etcd_mod/.ready" ]; then
  progress "resolving go.etcd.io/etcd@$ETCD_VERSION"
  (
    cd "$etcd_mod"
    rm -f go.mod go.sum
    go mod init lab.local/etcdbins >/dev/null 2>&1
    cat >etcd/main.go <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
    cat >etcdctl/main.go <<'GO'
package main

import "go.etcd.io/etcd/etcdctl/v3/ctlv3"

func main() { ctlv3.MustStart() }
GO
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/etcdctl/v3@$ETCD_VERSION" >/dev/null 2>&1
    go mod tidy >/dev/null
  )
  touch "$etcd_mod/.ready"
fi
build "$etcd_mod" "$out/bin/etcd" ./etcd -ldflags "-s -w"
build "$etcd_mod" "$out/bin/etcdctl" ./etcdctl -ldflags "-s -w"

# --- containerd (its go.mod has exclude directives, so a wrapper module too).
ctrd_mod="$work/containerd"
tools_module "$ctrd_mod" "github.com/containerd/containerd/v2@$CONTAINERD_VERSION" \
  github.com/containerd/containerd/v2/cmd/containerd \
  github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
  github.com/containerd/containerd/v2/cmd/ctr
ctrd_ldflags="-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
for cmd in containerd containerd-shim-runc-v2 ctr; do
  build "$ctrd_mod" "$out/bin/$cmd" "github.com/containerd/containerd/v2/cmd/$cmd" \
    -tags "no_btrfs no_zfs no_devmapper no_aufs" -ldflags "$ctrd_ldflags"
done

# --- runc needs cgo (nsenter); linked statically so the bundle runs on any glibc.
runc_mod="$work/runc"
tools_module "$runc_mod" "github.com/opencontainers/runc@$RUNC_VERSION" github.com/opencontainers/runc
# seccomp: containerd gives every sandbox the runtime/default profile (static libseccomp.a from
# Debian's libseccomp-dev).
CGO_ENABLED=1 build "$runc_mod" "$out/bin/runc" github.com/opencontainers/runc \
  -tags "seccomp netgo osusergo" -ldflags "-s -w -X main.version=${RUNC_VERSION#v} -extldflags -static"

# --- CNI plugins (no replace directives: plain module versions).
cni_mod="$work/cni"
cni_plugins=(ipam/host-local main/bridge main/loopback meta/portmap)
tools_module "$cni_mod" "github.com/containernetworking/plugins@$CNI_PLUGINS_VERSION" \
  "${cni_plugins[@]/#/github.com/containernetworking/plugins/plugins/}"
for p in "${cni_plugins[@]}"; do
  build "$cni_mod" "$out/cni/$(basename "$p")" "github.com/containernetworking/plugins/plugins/$p" -ldflags "-s -w"
done

# --- Images: built from the binaries above with go-containerregistry (no registry anywhere).
img_mod="$work/imagebuild"
mkdir -p "$img_mod"
if [ ! -f "$img_mod/.ready" ]; then
  (
    cd "$img_mod"
    rm -f go.mod go.sum ./*.go
    cp "$here/imagebuild/main.go" .
    go mod init lab.local/imagebuild >/dev/null 2>&1
    go get "github.com/google/go-containerregistry@$GO_CONTAINERREGISTRY_VERSION" >/dev/null 2>&1
    go mod tidy >/dev/null
  )
  touch "$img_mod/.ready"
fi
# Sources are copied every run (cheap); a changed one means a stale binary, so compare first.
mkdir -p "$img_mod/pause" "$img_mod/netcheck"
for src in main.go:main.go pause.go.txt:pause/main.go netcheck.go.txt:netcheck/main.go; do
  from="$here/imagebuild/${src%%:*}" to="$img_mod/${src#*:}"
  cmp -s "$from" "$to" || { cp "$from" "$to" && rm -f "$work/bin/$(basename "$(dirname "$to")")"; }
done
build "$img_mod" "$work/bin/imagebuild" . -ldflags "-s -w"
build "$img_mod" "$work/bin/pause" ./pause -ldflags "-s -w"
build "$img_mod" "$work/bin/netcheck" ./netcheck -ldflags "-s -w"

# The lab's test workload: not part of the bundle (not in bundle.json, so never imported or served).
mkdir -p "$out/lab"
if [ ! -f "$out/lab/netcheck.tar" ]; then
  "$work/bin/imagebuild" -ref runos.lab/netcheck:1 -out "$out/lab/netcheck.tar.tmp" "$work/bin/netcheck"
  mv "$out/lab/netcheck.tar.tmp" "$out/lab/netcheck.tar"
fi

images=$("$out/bin/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION")
for ref in $images; do
  name=${ref##*/}
  name=${name%%:*}
  dest="$out/images/$name.tar"
  [ -f "$dest" ] && continue
  extra=()
  case $name in
    kube-apiserver | kube-controller-manager | kube-scheduler) bins=("$out/bin/$name") ;;
    kube-proxy)
      # nftables mode runs the nft tool: Debian's, with every library it links and its loader.
      bins=("$out/bin/$name")
      extra=(-file /usr/sbin/nft=/usr/sbin/nft -file /etc/protocols=/etc/protocols)
      for lib in $(ldd /usr/sbin/nft | awk '/=> \// {print $3} $1 ~ /^\/lib64\// {print $1}'); do
        extra+=(-file "$lib=$lib")
      done
      ;;
    etcd) bins=("$out/bin/etcd" "$out/bin/etcdctl") ;;
    pause) bins=("$work/bin/pause") ;;
    coredns)
      progress "image $ref: skipped (the lab runs kubeadm without the coredns addon)"
      continue
      ;;
    *)
      echo "bundle: no recipe for image $ref" >&2
      exit 1
      ;;
  esac
  progress "image $ref"
  "$work/bin/imagebuild" -ref "$ref" -out "$dest.tmp" "${extra[@]}" "${bins[@]}"
  mv "$dest.tmp" "$dest"
done

# --- bundle.json: the version and the sha256 of every file, written last (it marks the bundle done).
(
  cd "$out"
  {
    echo "{"
    echo "  \"kubernetesVersion\": \"$KUBERNETES_VERSION\","
    echo "  \"components\": {\"etcd\": \"$ETCD_VERSION\", \"containerd\": \"$CONTAINERD_VERSION\", \"runc\": \"$RUNC_VERSION\", \"cniPlugins\": \"$CNI_PLUGINS_VERSION\"},"
    echo "  \"images\": [$(for ref in $images; do case $ref in *coredns*) ;; *) printf '"%s",' "$ref" ;; esac; done | sed 's/,$//')],"
    echo "  \"files\": {"
    find bin cni images -type f ! -name '*.tmp' | sort | while read -r f; do
      printf '    "%s": "%s",\n' "$f" "$(sha256sum "$f" | cut -d' ' -f1)"
    done | sed '$ s/,$//'
    echo "  }"
    echo "}"
  } >bundle.json.tmp
  mv bundle.json.tmp bundle.json
)
progress "bundle ready: $out"
echo "$out"
