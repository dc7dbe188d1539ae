package api

import (
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
)

// encoded is a message already in its wire form. A watch event goes to
// every watcher of a kind; encoding it once and handing the same bytes to
// each stream saves a marshal per watcher. The BufferSlice is built once
// too, so that passing it to a stream allocates nothing.
type encoded struct{ data mem.BufferSlice }

// newEncoded wraps b. SliceBuffer does not recycle its bytes (its Free and
// Ref do nothing), so any number of streams may send the same slice.
func newEncoded(b []byte) *encoded { return &encoded{data: mem.BufferSlice{mem.SliceBuffer(b)}} }

// codec is the proto codec that also passes encoded messages through.
type codec struct{ proto encoding.CodecV2 }

func (c codec) Marshal(v any) (mem.BufferSlice, error) {
	if e, ok := v.(*encoded); ok {
		return e.data, nil
	}
	return c.proto.Marshal(v)
}

func (c codec) Unmarshal(data mem.BufferSlice, v any) error { return c.proto.Unmarshal(data, v) }

func (c codec) Name() string { return c.proto.Name() }

// ServerCodec is the server option that installs the codec.
func ServerCodec() grpc.ServerOption {
	return grpc.ForceServerCodecV2(codec{proto: encoding.GetCodecV2("proto")})
}
