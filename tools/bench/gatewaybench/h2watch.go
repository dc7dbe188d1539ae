package gatewaybench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// The h2 watchers are the fan-out's default client. With the watchers on
// the gateway's own two cores, a grpc-go client stream per watcher (a
// goroutine, a receive buffer and a wake-up per message, and their
// garbage) cost as much CPU per delivery as the gateway spent sending,
// so the benchmark measured mostly itself. An h2 connection is a plain
// HTTP/2 client: one goroutine reads every frame of its streams, splits
// the gRPC messages out of the DATA frames and records them. The gateway
// serves exactly what it serves a grpc-go client (the same streams,
// frames, headers, trailers and flow control); only the receiving side is
// leaner. --fanout-client=grpc runs the grpc-go watchers instead.

const (
	// The windows the watchers grant: large, so that the gateway never
	// waits for a window update, and refreshed at half.
	h2StreamWindow = 1 << 20
	h2ConnWindow   = 1 << 30
	grpcHeaderLen  = 5 // compressed flag and 4-byte length
)

// h2Conn is one HTTP/2 connection carrying watch streams for the watchers
// first, first+1, ....
type h2Conn struct {
	conn  net.Conn
	fr    *http2.Framer
	bw    *bufio.Writer
	wmu   sync.Mutex // the framer's writes, the hpack encoder and bw
	hbuf  bytes.Buffer
	henc  *hpack.Encoder
	first int
	// Per stream, indexed by (stream id - 1) / 2, touched only by the
	// reader: bytes of a message not complete yet and bytes read since
	// the last window update.
	pending  [][]byte
	unacked  []int
	connRead int
}

// dialH2 connects to addr and greets the server.
func dialH2(ctx context.Context, addr string, first, streams int) (*h2Conn, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &h2Conn{conn: conn, bw: bufio.NewWriterSize(conn, 64<<10), first: first,
		pending: make([][]byte, streams), unacked: make([]int, streams)}
	c.fr = http2.NewFramer(c.bw, bufio.NewReaderSize(conn, 64<<10))
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.henc = hpack.NewEncoder(&c.hbuf)
	if _, err := c.bw.WriteString(http2.ClientPreface); err == nil {
		err = c.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow})
	}
	if err == nil {
		err = c.fr.WriteWindowUpdate(0, h2ConnWindow-65535)
	}
	if err == nil {
		err = c.bw.Flush()
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// open starts stream i of the connection: WatchPods with req.
func (c *h2Conn) open(i int, authority string, req *shoalv1.WatchPodsRequest) error {
	body, err := proto.Marshal(req)
	if err != nil {
		return err
	}
	msg := make([]byte, grpcHeaderLen+len(body))
	binary.BigEndian.PutUint32(msg[1:], uint32(len(body)))
	copy(msg[grpcHeaderLen:], body)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.hbuf.Reset()
	for _, f := range []hpack.HeaderField{
		{Name: ":method", Value: "POST"},
		{Name: ":scheme", Value: "http"},
		{Name: ":path", Value: watchPodsMethod},
		{Name: ":authority", Value: authority},
		{Name: "content-type", Value: "application/grpc"},
		{Name: "te", Value: "trailers"},
	} {
		if err := c.henc.WriteField(f); err != nil {
			return err
		}
	}
	id := uint32(2*i + 1)
	if err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hbuf.Bytes(), EndHeaders: true}); err != nil {
		return err
	}
	if err := c.fr.WriteData(id, true, msg); err != nil {
		return err
	}
	return c.bw.Flush()
}

// read handles the connection's frames until it fails or closes, handing
// every gRPC message of stream i to deliver(first+i, message, arrival).
func (c *h2Conn) read(deliver func(w int, msg []byte, now int64) error) error {
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return err
		}
		now := time.Now().UnixNano()
		switch f := f.(type) {
		case *http2.DataFrame:
			if err := c.data(f, now, deliver); err != nil {
				return err
			}
		case *http2.MetaHeadersFrame:
			if f.StreamEnded() {
				return streamEnded(f)
			}
		case *http2.SettingsFrame:
			if !f.IsAck() {
				err = c.write(func() error { return c.fr.WriteSettingsAck() })
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				err = c.write(func() error { return c.fr.WritePing(true, f.Data) })
			}
		case *http2.RSTStreamFrame:
			return fmt.Errorf("gatewaybench: stream %d reset: %v", f.StreamID, f.ErrCode)
		case *http2.GoAwayFrame:
			return fmt.Errorf("gatewaybench: server sent GOAWAY: %v %s", f.ErrCode, f.DebugData())
		}
		if err != nil {
			return err
		}
	}
}

// data splits a DATA frame's payload into gRPC messages and returns the
// flow-control window once half of it has been read.
func (c *h2Conn) data(f *http2.DataFrame, now int64, deliver func(int, []byte, int64) error) error {
	i := int(f.StreamID-1) / 2
	if f.StreamID%2 == 0 || i >= len(c.pending) {
		return fmt.Errorf("gatewaybench: DATA on unknown stream %d", f.StreamID)
	}
	// Messages whole in the frame are read in place; only a message split
	// across frames is copied.
	buf := f.Data()
	if len(c.pending[i]) > 0 {
		buf = append(c.pending[i], buf...)
	}
	for len(buf) >= grpcHeaderLen {
		n := int(binary.BigEndian.Uint32(buf[1:grpcHeaderLen]))
		if buf[0] != 0 {
			return errors.New("gatewaybench: compressed message, none was asked for")
		}
		if len(buf) < grpcHeaderLen+n {
			break
		}
		if err := deliver(c.first+i, buf[grpcHeaderLen:grpcHeaderLen+n], now); err != nil {
			return err
		}
		buf = buf[grpcHeaderLen+n:]
	}
	// Keep the unfinished message at the front of the stream's buffer.
	c.pending[i] = append(c.pending[i][:0], buf...)

	c.unacked[i] += int(f.Length)
	c.connRead += int(f.Length)
	var streamInc, connInc uint32
	if c.unacked[i] >= h2StreamWindow/2 {
		streamInc, c.unacked[i] = uint32(c.unacked[i]), 0
	}
	if c.connRead >= h2ConnWindow/2 {
		connInc, c.connRead = uint32(c.connRead), 0
	}
	if streamInc == 0 && connInc == 0 {
		return nil
	}
	return c.write(func() error {
		if streamInc > 0 {
			if err := c.fr.WriteWindowUpdate(f.StreamID, streamInc); err != nil {
				return err
			}
		}
		if connInc > 0 {
			return c.fr.WriteWindowUpdate(0, connInc)
		}
		return nil
	})
}

// write runs fn under the write lock and flushes.
func (c *h2Conn) write(fn func() error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := fn(); err != nil {
		return err
	}
	return c.bw.Flush()
}

// streamEnded is the error for a watch stream that ended: a watch ends
// only when the gateway fails it or shuts down.
func streamEnded(f *http2.MetaHeadersFrame) error {
	status, msg := f.PseudoValue("status"), ""
	for _, h := range f.RegularFields() {
		switch h.Name {
		case "grpc-status":
			status = "grpc-status " + h.Value
		case "grpc-message":
			msg = h.Value
		}
	}
	return fmt.Errorf("gatewaybench: stream %d ended: %s %s", f.StreamID, status, msg)
}

func (c *h2Conn) close() error { return c.conn.Close() }
