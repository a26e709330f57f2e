# 1
echo STATUS_UPDATE:CHECKING_NODE

# 2
runos preflight --kubernetes --role worker

# 3
echo PROGRESS_UPDATE:5%

# 4
echo STATUS_UPDATE:FETCHING_KUBERNETES_BUNDLE

# 5
f='/var/lib/runos/kubernetes/bundle/bin/kubeadm'; sum='0000000000000000000000000000000000000000000000000000000000000000'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/bin/kubeadm'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for bin/kubeadm: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 6
f='/var/lib/runos/kubernetes/bundle/bin/kubelet'; sum='1111111111111111111111111111111111111111111111111111111111111111'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/bin/kubelet'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for bin/kubelet: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 7
f='/var/lib/runos/kubernetes/bundle/bin/kubectl'; sum='2222222222222222222222222222222222222222222222222222222222222222'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/bin/kubectl'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for bin/kubectl: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 8
f='/var/lib/runos/kubernetes/bundle/bin/containerd'; sum='3333333333333333333333333333333333333333333333333333333333333333'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/bin/containerd'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for bin/containerd: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 9
f='/var/lib/runos/kubernetes/bundle/bin/containerd-shim-runc-v2'; sum='4444444444444444444444444444444444444444444444444444444444444444'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/bin/containerd-shim-runc-v2'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for bin/containerd-shim-runc-v2: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 10
f='/var/lib/runos/kubernetes/bundle/bin/ctr'; sum='5555555555555555555555555555555555555555555555555555555555555555'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/bin/ctr'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for bin/ctr: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 11
f='/var/lib/runos/kubernetes/bundle/bin/runc'; sum='6666666666666666666666666666666666666666666666666666666666666666'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/bin/runc'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for bin/runc: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 12
f='/var/lib/runos/kubernetes/bundle/images/pause.tar'; sum='7777777777777777777777777777777777777777777777777777777777777777'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/images/pause.tar'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for images/pause.tar: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 13
f='/var/lib/runos/kubernetes/bundle/images/kube-proxy.tar'; sum='8888888888888888888888888888888888888888888888888888888888888888'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/images/kube-proxy.tar'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for images/kube-proxy.tar: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 14
f='/var/lib/runos/kubernetes/bundle/cni/bridge'; sum='eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/cni/bridge'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for cni/bridge: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 15
f='/var/lib/runos/kubernetes/bundle/cni/host-local'; sum='ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/cni/host-local'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for cni/host-local: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 16
f='/var/lib/runos/kubernetes/bundle/cni/loopback'; sum='0000000000000000000000000000000000000000000000000000000000000000'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/cni/loopback'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for cni/loopback: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 17
f='/var/lib/runos/kubernetes/bundle/cni/portmap'; sum='1111111111111111111111111111111111111111111111111111111111111111'
if [ "$(sha256sum "$f" 2>/dev/null | cut -d' ' -f1)" != "$sum" ]; then
  mkdir -p "$(dirname "$f")" && curl -fsS --retry 3 --connect-timeout 10 -o "$f.part" 'http://nodeward:9190/bundles/v1.34.4/cni/portmap'
  got=$(sha256sum "$f.part" | cut -d' ' -f1)
  if [ "$got" != "$sum" ]; then rm -f "$f.part"; echo "runos: checksum mismatch for cni/portmap: expected $sum, got $got" >&2; exit 1; fi
  mv "$f.part" "$f"
fi

# 18
echo STATUS_UPDATE:PREPARING_HOST

# 19
swapoff -a && if grep -qE '^[^#][^[:space:]]*[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]]' /etc/fstab 2>/dev/null; then sed -ri.runos-bak '/^[[:space:]]*#/! s/^([^[:space:]]+[[:space:]]+[^[:space:]]+[[:space:]]+swap[[:space:]].*)$/#\1/' /etc/fstab; fi

# 20
mkdir -p "$(dirname '/etc/modules-load.d/kubernetes.conf')" && cat > '/etc/modules-load.d/kubernetes.conf.new' <<'RUNOS_EOF'
overlay
br_netfilter
RUNOS_EOF
chmod 0644 '/etc/modules-load.d/kubernetes.conf.new' && mv '/etc/modules-load.d/kubernetes.conf.new' '/etc/modules-load.d/kubernetes.conf'
grep -qw overlay /proc/filesystems || modprobe overlay
[ -d /proc/sys/net/bridge ] || modprobe br_netfilter

# 21
mkdir -p "$(dirname '/etc/sysctl.d/99-kubernetes.conf')" && cat > '/etc/sysctl.d/99-kubernetes.conf.new' <<'RUNOS_EOF'
net.ipv4.ip_forward = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
fs.inotify.max_user_instances = 8192
fs.inotify.max_user_watches = 524288
RUNOS_EOF
chmod 0644 '/etc/sysctl.d/99-kubernetes.conf.new' && mv '/etc/sysctl.d/99-kubernetes.conf.new' '/etc/sysctl.d/99-kubernetes.conf'
sysctl -q -p /etc/sysctl.d/99-kubernetes.conf

# 22
echo PROGRESS_UPDATE:10%

# 23
echo STATUS_UPDATE:INSTALLING_KUBERNETES_PACKAGES

# 24
install -d -m 0755 /usr/local/bin && install -m 0755 '/var/lib/runos/kubernetes/bundle/bin/kubeadm' '/var/lib/runos/kubernetes/bundle/bin/kubelet' '/var/lib/runos/kubernetes/bundle/bin/kubectl' '/var/lib/runos/kubernetes/bundle/bin/containerd' '/var/lib/runos/kubernetes/bundle/bin/containerd-shim-runc-v2' '/var/lib/runos/kubernetes/bundle/bin/ctr' '/var/lib/runos/kubernetes/bundle/bin/runc' /usr/local/bin/

# 25
install -d -m 0755 /opt/cni/bin && install -m 0755 '/var/lib/runos/kubernetes/bundle/cni/bridge' '/var/lib/runos/kubernetes/bundle/cni/host-local' '/var/lib/runos/kubernetes/bundle/cni/loopback' '/var/lib/runos/kubernetes/bundle/cni/portmap' /opt/cni/bin/

# 26
echo PROGRESS_UPDATE:40%

# 27
echo STATUS_UPDATE:CONFIGURING_CONTAINERD

# 28
mkdir -p "$(dirname '/etc/systemd/system/containerd.service')" && cat > '/etc/systemd/system/containerd.service.new' <<'RUNOS_EOF'
[Unit]
Description=containerd container runtime (installed by runos)
After=network.target local-fs.target

[Service]
ExecStart=/usr/local/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
RUNOS_EOF
chmod 0644 '/etc/systemd/system/containerd.service.new' && mv '/etc/systemd/system/containerd.service.new' '/etc/systemd/system/containerd.service'

# 29
if [ -d /run/systemd/system ]; then SYSTEMD_CGROUP=true; else SYSTEMD_CGROUP=false; fi
capbnd=$(awk '/^CapBnd/ {print $2}' /proc/self/status); if [ $(( 0x$capbnd >> 24 & 1 )) -eq 1 ]; then RESTRICT_OOM=false; else RESTRICT_OOM=true; fi
mkdir -p "$(dirname '/etc/containerd/config.toml.wanted')" && cat > '/etc/containerd/config.toml.wanted.new' <<RUNOS_EOF
version = 3
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = 'registry.k8s.io/pause:3.10.1'
[plugins.'io.containerd.cri.v1.images'.registry]
  config_path = '/etc/containerd/certs.d'
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = ${RESTRICT_OOM}
[plugins.'io.containerd.cri.v1.runtime'.containerd]
  default_runtime_name = 'runc'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  SystemdCgroup = ${SYSTEMD_CGROUP}
[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ['/opt/cni/bin']
  conf_dir = '/etc/cni/net.d'
RUNOS_EOF
chmod 0644 '/etc/containerd/config.toml.wanted.new' && mv '/etc/containerd/config.toml.wanted.new' '/etc/containerd/config.toml.wanted'
if cmp -s /etc/containerd/config.toml.wanted /etc/containerd/config.toml; then rm -f /etc/containerd/config.toml.wanted; runos service start containerd; else mv /etc/containerd/config.toml.wanted /etc/containerd/config.toml && runos service restart containerd; fi

# 30
for _ in $(seq 60); do ctr version >/dev/null 2>&1 && exit 0; sleep 1; done; echo 'containerd did not answer on /run/containerd/containerd.sock within 60 s' >&2; exit 1

# 31
ctr -n k8s.io images import --all-platforms --label io.cri-containerd.pinned=pinned '/var/lib/runos/kubernetes/bundle/images/pause.tar'

# 32
ctr -n k8s.io images import --all-platforms --label io.cri-containerd.pinned=pinned '/var/lib/runos/kubernetes/bundle/images/kube-proxy.tar'

# 33
echo PROGRESS_UPDATE:55%

# 34
echo STATUS_UPDATE:CONFIGURING_KUBELET

# 35
mkdir -p "$(dirname '/etc/systemd/system/kubelet.service')" && cat > '/etc/systemd/system/kubelet.service.new' <<'RUNOS_EOF'
[Unit]
Description=kubelet: the Kubernetes node agent (installed by runos)
Wants=network-online.target
After=network-online.target containerd.service wg-quick@wg0.service
# kubeadm writes this last, then restarts the kubelet: before that a kubelet has nothing to run.
ConditionPathExists=/var/lib/kubelet/kubeadm-flags.env

[Service]
ExecStart=/usr/local/bin/kubelet
Restart=always
StartLimitInterval=0
RestartSec=2

[Install]
WantedBy=multi-user.target
RUNOS_EOF
chmod 0644 '/etc/systemd/system/kubelet.service.new' && mv '/etc/systemd/system/kubelet.service.new' '/etc/systemd/system/kubelet.service'

# 36
mkdir -p "$(dirname '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf')" && cat > '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf.new' <<'RUNOS_EOF'
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/local/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
RUNOS_EOF
chmod 0644 '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf.new' && mv '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf.new' '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf'

# 37
runos service start kubelet

# 38
if [ -d /run/systemd/system ]; then CGROUP_DRIVER=systemd; else CGROUP_DRIVER=cgroupfs; fi
mkdir -p "$(dirname '/etc/runos/kubernetes/patches/kubeletconfiguration0runos+merge.yaml')" && cat > '/etc/runos/kubernetes/patches/kubeletconfiguration0runos+merge.yaml.new' <<RUNOS_EOF
cgroupDriver: ${CGROUP_DRIVER}
RUNOS_EOF
chmod 0644 '/etc/runos/kubernetes/patches/kubeletconfiguration0runos+merge.yaml.new' && mv '/etc/runos/kubernetes/patches/kubeletconfiguration0runos+merge.yaml.new' '/etc/runos/kubernetes/patches/kubeletconfiguration0runos+merge.yaml'

# 39
echo STATUS_UPDATE:CONFIGURING_POD_NETWORK

# 40
mkdir -p "$(dirname '/etc/cni/net.d/10-runos.conflist')" && cat > '/etc/cni/net.d/10-runos.conflist.new' <<'RUNOS_EOF'
{
  "cniVersion": "1.0.0",
  "name": "runos",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "runos0",
      "isGateway": true,
      "ipMasq": false,
      "mtu": 1420,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [
          [
            {
              "subnet": "10.244.3.0/24"
            }
          ]
        ],
        "routes": [
          {
            "dst": "0.0.0.0/0"
          }
        ]
      }
    },
    {
      "type": "portmap",
      "capabilities": {
        "portMappings": true
      }
    }
  ]
}
RUNOS_EOF
chmod 0644 '/etc/cni/net.d/10-runos.conflist.new' && mv '/etc/cni/net.d/10-runos.conflist.new' '/etc/cni/net.d/10-runos.conflist'

# 41
ip route replace 10.244.0.0/16 dev wg0

# 42
mkdir -p "$(dirname '/var/lib/runos/kubernetes/pod-nat.nft')" && cat > '/var/lib/runos/kubernetes/pod-nat.nft.new' <<'RUNOS_EOF'
table ip runos_pods
delete table ip runos_pods
table ip runos_pods {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.244.3.0/24 ip daddr != 10.244.0.0/16 masquerade
  }
}
RUNOS_EOF
chmod 0644 '/var/lib/runos/kubernetes/pod-nat.nft.new' && mv '/var/lib/runos/kubernetes/pod-nat.nft.new' '/var/lib/runos/kubernetes/pod-nat.nft'
nft -f '/var/lib/runos/kubernetes/pod-nat.nft'

# 43
echo PROGRESS_UPDATE:60%

# 44
for _ in $(seq 120); do curl -sk -o /dev/null --max-time 2 https://127.0.0.1:6446/; rc=$?; [ $rc -ne 7 ] && exit 0; sleep 1; done; echo 'the API load balancer on 127.0.0.1:6446 is not running (is the runos agent up and does nodeward know a control plane?)' >&2; exit 1

# 45
echo STATUS_UPDATE:JOINING_AS_WORKER

# 46
mkdir -p "$(dirname '/etc/kubernetes/kubeadm/join.yaml')" && cat > '/etc/kubernetes/kubeadm/join.yaml.new' <<'RUNOS_EOF'
apiVersion: kubeadm.k8s.io/v1beta4
kind: JoinConfiguration
discovery:
  bootstrapToken:
    apiServerEndpoint: 127.0.0.1:6446
    token: abcdef.0123456789abcdef
    caCertHashes:
      - sha256:abababababababababababababababababababababababababababababababab
  tlsBootstrapToken: abcdef.0123456789abcdef
nodeRegistration:
  name: w1
  criSocket: unix:///run/containerd/containerd.sock
  imagePullPolicy: Never
  kubeletExtraArgs:
    - name: node-ip
      value: 172.24.1.3
patches:
  directory: /etc/runos/kubernetes/patches
timeouts:
  discovery: 5m0s
  tlsBootstrap: 5m0s
RUNOS_EOF
chmod 0600 '/etc/kubernetes/kubeadm/join.yaml.new' && mv '/etc/kubernetes/kubeadm/join.yaml.new' '/etc/kubernetes/kubeadm/join.yaml'

# 47
if [ -f /etc/kubernetes/kubelet.conf ] && kubectl --kubeconfig /etc/kubernetes/kubelet.conf get --raw /readyz >/dev/null 2>&1; then echo 'kubeadm join: already done'; exit 0; fi
if [ -e /etc/kubernetes/kubelet.conf ] || [ -e /etc/kubernetes/pki/ca.crt ]; then kubeadm reset -f >/dev/null 2>&1; rm -rf /var/lib/etcd/member; fi
kubeadm join --config /etc/kubernetes/kubeadm/join.yaml

# 48
echo PROGRESS_UPDATE:90%

# 49
echo STATUS_UPDATE:WAITING_FOR_NODE_READY

# 50
for _ in $(seq 60); do kubectl --kubeconfig /etc/kubernetes/kubelet.conf get 'node/w1' >/dev/null 2>&1 && break; sleep 2; done
kubectl --kubeconfig /etc/kubernetes/kubelet.conf wait --for=condition=Ready 'node/w1' --timeout=300s

# 51
echo PROGRESS_UPDATE:100%

# 52
echo STATUS_UPDATE:KUBERNETES_READY
