package mkimage

import "runtime"

func goarch() string { return runtime.GOARCH }
