package gatewaybench

import (
	"context"
	"errors"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// The fan-out watchers run on the gateway's two cores, so what they spend
// per delivery is taken from the gateway being measured. A full decode of
// each WatchPodsResponse (maps, strings, a Timestamp, and the garbage that
// 10,000 goroutines' stacks make expensive to collect) was measured at
// about 37 % of the watchers' CPU; a watcher needs only three fields to
// record a delivery. So the watchers receive each event's bytes as they
// came off the wire and read those fields in place: the gRPC receive path,
// HTTP/2 framing and flow control are the same as a full client's.

// Field numbers from proto/shoal/v1 (WatchPodsResponse, Pod, ObjectMeta and
// a map entry).
const (
	fieldEventType  protowire.Number = 1 // WatchPodsResponse.type
	fieldEventPod   protowire.Number = 2 // WatchPodsResponse.pod
	fieldPodMeta    protowire.Number = 1 // Pod.metadata
	fieldMetaName   protowire.Number = 1 // ObjectMeta.name
	fieldMetaAnnots protowire.Number = 7 // ObjectMeta.annotations
	fieldMapKey     protowire.Number = 1
	fieldMapValue   protowire.Number = 2
	watchPodsMethod                  = "/shoal.v1.PodService/WatchPods"
)

// watchFrame is one received event, undecoded. Its buffer is reused from
// event to event.
type watchFrame struct{ buf []byte }

// frameCodec marshals requests as protobuf and hands responses over as
// bytes (into a *watchFrame).
type frameCodec struct{ proto encoding.CodecV2 }

func newFrameCodec() frameCodec { return frameCodec{proto: encoding.GetCodecV2("proto")} }

func (c frameCodec) Marshal(v any) (mem.BufferSlice, error) { return c.proto.Marshal(v) }

func (c frameCodec) Unmarshal(data mem.BufferSlice, v any) error {
	f, ok := v.(*watchFrame)
	if !ok {
		return c.proto.Unmarshal(data, v)
	}
	// data is returned to gRPC's pool after Unmarshal: copy it out.
	f.buf = f.buf[:0]
	for _, b := range data {
		f.buf = append(f.buf, b.ReadOnlyData()...)
	}
	return nil
}

func (c frameCodec) Name() string { return c.proto.Name() }

// openFrameWatch opens WatchPods on conn with the frame codec.
func openFrameWatch(ctx context.Context, conn grpc.ClientConnInterface, req *shoalv1.WatchPodsRequest) (grpc.ClientStream, error) {
	desc := &grpc.StreamDesc{StreamName: "WatchPods", ServerStreams: true}
	s, err := conn.NewStream(ctx, desc, watchPodsMethod, grpc.ForceCodecV2(newFrameCodec()))
	if err != nil {
		return nil, err
	}
	if err := s.SendMsg(req); err != nil {
		return nil, err
	}
	return s, s.CloseSend()
}

// podEvent is what a watcher reads of an event.
type podEvent struct {
	Type          shoalv1.WatchEventType
	Name          string
	Annotation    string // the value of the annotation asked for
	HasAnnotation bool
}

var errMalformed = errors.New("gatewaybench: malformed watch event")

// parseFrame reads an event's type, its pod's name and the value of one
// annotation from the event's wire form. Strings alias b.
func parseFrame(b []byte, annotation string) (podEvent, error) {
	var ev podEvent
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch {
		case num == fieldEventType && typ == protowire.VarintType:
			ev.Type = shoalv1.WatchEventType(n)
		case num == fieldEventPod && typ == protowire.BytesType:
			return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
				if num != fieldPodMeta || typ != protowire.BytesType {
					return nil
				}
				return eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
					if typ != protowire.BytesType {
						return nil
					}
					switch num {
					case fieldMetaName:
						ev.Name = string(v)
					case fieldMetaAnnots:
						var key, value []byte
						err := eachField(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
							if typ == protowire.BytesType && num == fieldMapKey {
								key = v
							} else if typ == protowire.BytesType && num == fieldMapValue {
								value = v
							}
							return nil
						})
						if err == nil && string(key) == annotation {
							ev.Annotation, ev.HasAnnotation = string(value), true
						}
						return err
					}
					return nil
				})
			})
		}
		return nil
	})
	return ev, err
}

// eachField calls fn for every field of the message b, with its bytes for
// length-delimited fields and its value for varints.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		var (
			v   []byte
			val uint64
		)
		switch typ {
		case protowire.VarintType:
			val, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, val); err != nil {
			return err
		}
	}
	return nil
}
