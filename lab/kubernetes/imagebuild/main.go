// imagebuild writes a single-layer linux/amd64 image archive holding static binaries, so the lab
// can import kubeadm's control-plane images into containerd without any registry.
//
//	imagebuild -ref registry.k8s.io/kube-apiserver:v1.34.4 -out kube-apiserver.tar bin/kube-apiserver
//
// Binaries go to /usr/local/bin (kubeadm's static pods call them through PATH); the first one is
// also the entrypoint. The pause binary goes to /pause, where the CRI expects a sandbox entrypoint.
package main

import (
	"archive/tar"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

var epoch = time.Unix(0, 0).UTC()

// extraFiles collects repeated `-file SRC=DEST` flags: host files (followed through symlinks)
// placed at DEST in the image, e.g. a dynamically linked tool and its libraries.
type extraFiles []string

func (f *extraFiles) String() string     { return strings.Join(*f, ",") }
func (f *extraFiles) Set(v string) error { *f = append(*f, v); return nil }

var extraFileFlags extraFiles

func main() {
	ref := flag.String("ref", "", "image reference, e.g. registry.k8s.io/pause:3.10.1")
	out := flag.String("out", "", "archive to write")
	flag.Var(&extraFileFlags, "file", "SRC=DEST: also put host file SRC at DEST in the image (repeatable)")
	flag.Parse()
	if *ref == "" || *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: imagebuild -ref REF -out FILE BINARY...")
		os.Exit(2)
	}
	if err := run(*ref, *out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "imagebuild:", err)
		os.Exit(1)
	}
}

func run(ref, out string, bins []string) error {
	tag, err := name.NewTag(ref)
	if err != nil {
		return err
	}
	layerPath := out + ".layer"
	defer os.Remove(layerPath)
	entry, err := writeLayer(layerPath, bins)
	if err != nil {
		return err
	}
	layer, err := tarball.LayerFromFile(layerPath)
	if err != nil {
		return err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cfg = cfg.DeepCopy()
	cfg.OS = "linux"
	cfg.Architecture = "amd64"
	cfg.Created.Time = epoch
	cfg.Config.Env = []string{"PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cfg.Config.Entrypoint = []string{entry}
	img, err = mutate.ConfigFile(img, cfg)
	if err != nil {
		return err
	}
	return tarball.WriteToFile(out, tag, img)
}

func writeLayer(path string, bins []string) (string, error) {
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, dir := range []string{"etc/", "tmp/", "usr/", "usr/local/", "usr/local/bin/", "var/", "var/run/"} {
		mode := int64(0o755)
		if dir == "tmp/" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir, Mode: mode, ModTime: epoch}); err != nil {
			return "", err
		}
	}
	// Name resolution inside the images: nsswitch and an empty hosts file keep Go's resolver sane.
	files := map[string]string{"etc/nsswitch.conf": "hosts: files dns\n", "etc/hosts": "127.0.0.1 localhost\n"}
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body)), ModTime: epoch}); err != nil {
			return "", err
		}
		if _, err := io.WriteString(tw, body); err != nil {
			return "", err
		}
	}
	// Extra files: their directories first (those the base layout lacks), then the files.
	base := map[string]bool{"etc": true, "tmp": true, "usr": true, "usr/local": true, "usr/local/bin": true, "var": true, "var/run": true}
	var extra [][2]string
	var dirs []string
	for _, spec := range extraFileFlags {
		src, dest, ok := strings.Cut(spec, "=")
		if !ok {
			return "", fmt.Errorf("-file %q: want SRC=DEST", spec)
		}
		dest = strings.TrimPrefix(dest, "/")
		extra = append(extra, [2]string{src, dest})
		var chain []string
		for d := filepath.Dir(dest); d != "." && !base[d]; d = filepath.Dir(d) {
			base[d] = true
			chain = append([]string{d}, chain...)
		}
		dirs = append(dirs, chain...)
	}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: epoch}); err != nil {
			return "", err
		}
	}
	for _, f := range extra {
		if err := addFile(tw, f[0], f[1]); err != nil {
			return "", err
		}
	}
	entry := ""
	for _, bin := range bins {
		dest := "usr/local/bin/" + filepath.Base(bin)
		if filepath.Base(bin) == "pause" {
			dest = "pause"
		}
		if entry == "" {
			entry = "/" + dest
		}
		if err := addFile(tw, bin, dest); err != nil {
			return "", err
		}
	}
	return entry, tw.Close()
}

func addFile(tw *tar.Writer, src, dest string) error {
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return err
	}
	in, err := os.Open(real)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: dest, Mode: 0o755, Size: st.Size(), ModTime: epoch}); err != nil {
		return err
	}
	_, err = io.Copy(tw, in)
	return err
}
