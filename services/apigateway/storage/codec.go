package storage

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/proto"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// encode marshals an object for etcd. resource_version is derived from the
// mod revision on every read, so it is never stored.
func encode(obj kinds.Object) ([]byte, error) {
	rv := kinds.Meta(obj).GetResourceVersion()
	kinds.Meta(obj).ResourceVersion = ""
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(obj)
	kinds.Meta(obj).ResourceVersion = rv
	return b, err
}

func decode(kind kinds.Kind, data []byte, rev int64) (kinds.Object, error) {
	obj := kind.New()
	if err := proto.Unmarshal(data, obj); err != nil {
		return nil, fmt.Errorf("storage: decoding %s: %w", kind.Name, err)
	}
	kinds.Meta(obj).ResourceVersion = strconv.FormatInt(rev, 10)
	return obj, nil
}

// ParseResourceVersion turns "" into 0 and a decimal string into a revision.
func ParseResourceVersion(rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, &BadResourceVersionError{Value: rv}
	}
	return n, nil
}
