package cmd

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/tools/shoalctl/manifest"
)

// apiError turns an error from the API into the lines shoalctl prints: an
// INVALID_ARGUMENT becomes one line per bad field, with the field path in
// the manifest's JSON names, `Deployment "web" is invalid:
// spec.template.spec.containers[0].image: Required value`. obj (may be nil)
// is the object the call was about.
func (a *app) apiError(err error, obj kinds.Object) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	switch st.Code() {
	case codes.InvalidArgument:
		var lines []string
		for _, d := range st.Details() {
			br, ok := d.(*errdetails.BadRequest)
			if !ok {
				continue
			}
			for _, v := range br.GetFieldViolations() {
				line := v.GetDescription()
				if v.GetField() != "" {
					path := v.GetField()
					if obj != nil {
						path = manifest.JSONPath(obj.ProtoReflect().Descriptor(), path)
					}
					line = path + ": " + line
				}
				if obj != nil {
					line = fmt.Sprintf("%s %q is invalid: %s", obj.ProtoReflect().Descriptor().Name(), obj.GetMetadata().GetName(), line)
				}
				lines = append(lines, line)
			}
		}
		if len(lines) > 0 {
			return errors.New(strings.Join(lines, "\n"))
		}
	case codes.Unavailable:
		msg := st.Message()
		if i := strings.LastIndex(msg, ": "); i >= 0 && (strings.Contains(msg, "dial") || strings.Contains(msg, "connection")) {
			msg = strings.Trim(msg[i+2:], `"`)
		}
		return fmt.Errorf("cannot reach the Shoal API at %s: %s", a.cfg.Server, msg)
	case codes.Unauthenticated:
		return fmt.Errorf("%s (set --token, SHOAL_TOKEN or token in ~/.shoal/config)", st.Message())
	case codes.PermissionDenied:
		return fmt.Errorf("forbidden: %s", st.Message())
	case codes.DeadlineExceeded, codes.Canceled:
		return fmt.Errorf("%s", st.Message())
	}
	return errors.New(st.Message())
}
