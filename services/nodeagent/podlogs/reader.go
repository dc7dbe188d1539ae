package podlogs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// ErrBadRecord is returned by ParseLine for a line not in CRI format.
var ErrBadRecord = errors.New("podlogs: malformed CRI log record")

// ParseLine parses one CRI log record (without its newline).
func ParseLine(rec []byte) (*shoalv1.LogLine, error) {
	sp := bytes.IndexByte(rec, ' ')
	if sp < 0 {
		return nil, ErrBadRecord
	}
	t, err := time.Parse(time.RFC3339Nano, string(rec[:sp]))
	if err != nil {
		return nil, ErrBadRecord
	}
	rest := rec[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp < 0 {
		return nil, ErrBadRecord
	}
	stream := string(rest[:sp])
	rest = rest[sp+1:]
	if len(rest) < 2 || (rest[0] != 'F' && rest[0] != 'P') || rest[1] != ' ' {
		return nil, ErrBadRecord
	}
	content := append([]byte(nil), rest[2:]...)
	return &shoalv1.LogLine{Time: timestamppb.New(t), Stream: stream, Content: content}, nil
}

// ReadOptions select lines.
type ReadOptions struct {
	// TailLines, when set, keeps only the last N lines of what exists now.
	TailLines *int64
	// Since drops older lines.
	Since time.Time
	// Follow keeps reading new lines until Done reports true and the file
	// is drained, or ctx ends.
	Follow bool
	// Done reports that the container instance has exited (no more lines).
	Done func() bool
	// Poll is how often a followed file is checked (default 100ms).
	Poll time.Duration
}

// Read sends the log at path (and its rotated predecessor) to send, in
// batches.
func Read(ctx context.Context, path string, o ReadOptions, send func([]*shoalv1.LogLine) error) error {
	if o.Poll == 0 {
		o.Poll = 100 * time.Millisecond
	}
	var lines []*shoalv1.LogLine
	keep := func(l *shoalv1.LogLine) bool { return o.Since.IsZero() || !l.GetTime().AsTime().Before(o.Since) }
	if old, err := os.ReadFile(path + ".1"); err == nil {
		lines = appendRecords(lines, old, keep)
	}
	f, err := os.Open(path)
	for err != nil && errors.Is(err, fs.ErrNotExist) && o.Follow {
		// A rotation renames the file before creating the next one: wait
		// for it rather than ending a follow in that instant.
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(o.Poll):
		}
		f, err = os.Open(path)
	}
	if err != nil {
		if o.TailLines != nil || !o.Follow {
			return sendAll(lines, o, send)
		}
		return err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	var pending []byte
	readAvailable := func() {
		for {
			chunk, err := r.ReadBytes('\n')
			pending = append(pending, chunk...)
			if err != nil {
				return
			}
			rec := bytes.TrimSuffix(pending, []byte("\n"))
			if l, perr := ParseLine(rec); perr == nil && keep(l) {
				lines = append(lines, l)
			}
			pending = pending[:0]
		}
	}
	readAvailable()
	if err := sendAll(lines, o, send); err != nil {
		return err
	}
	lines = nil
	if !o.Follow {
		return nil
	}
	ticker := time.NewTicker(o.Poll)
	defer ticker.Stop()
	for {
		finished := o.Done != nil && o.Done()
		readAvailable()
		if rotated(f, path) {
			// The writer moved on to a new file: drain the old one, reopen.
			readAvailable()
			nf, err := os.Open(path)
			if err == nil {
				f.Close()
				f = nf
				r.Reset(f)
				pending = pending[:0]
				readAvailable()
			}
		}
		if len(lines) > 0 {
			if err := send(lines); err != nil {
				return err
			}
			lines = nil
		}
		if finished {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

func rotated(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	return err1 == nil && err2 == nil && !os.SameFile(a, b)
}

func appendRecords(lines []*shoalv1.LogLine, data []byte, keep func(*shoalv1.LogLine) bool) []*shoalv1.LogLine {
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if l, err := ParseLine(data[:i]); err == nil && keep(l) {
			lines = append(lines, l)
		}
		data = data[i+1:]
	}
	return lines
}

func sendAll(lines []*shoalv1.LogLine, o ReadOptions, send func([]*shoalv1.LogLine) error) error {
	if o.TailLines != nil && int64(len(lines)) > *o.TailLines {
		lines = lines[int64(len(lines))-*o.TailLines:]
	}
	const batch = 500
	for len(lines) > 0 {
		n := min(batch, len(lines))
		if err := send(lines[:n]); err != nil {
			return err
		}
		lines = lines[n:]
	}
	return nil
}

var _ io.Writer = (*lineWriter)(nil)
