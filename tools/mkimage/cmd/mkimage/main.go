// Command mkimage writes an OCI image archive the node agent can import
// (--image-dir): either one static binary as the entrypoint, or a busybox
// shell image.
//
//	mkimage -ref shoal.local/pause:latest -binary bin/pause -o images/pause.tar
//	mkimage -ref shoal.local/busybox:latest -busybox /bin/busybox -o images/busybox.tar
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/shoalmesh/shoal/tools/mkimage"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mkimage", flag.ContinueOnError)
	ref := fs.String("ref", "", "full image reference, e.g. shoal.local/pause:latest")
	out := fs.String("o", "", "archive to write")
	binary := fs.String("binary", "", "static binary to put at /<name> as the entrypoint")
	busybox := fs.String("busybox", "", "static busybox binary: build a shell image")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *ref == "" || (*binary == "") == (*busybox == "") {
		return errors.New("need -ref, -o and exactly one of -binary, -busybox")
	}
	var spec mkimage.Spec
	if *binary != "" {
		spec = mkimage.Static(*ref, *binary, fs.Args()...)
	} else {
		var err error
		if spec, err = mkimage.Busybox(*ref, *busybox); err != nil {
			return err
		}
	}
	return mkimage.WriteArchive(*out, spec)
}
