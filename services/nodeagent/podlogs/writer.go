package podlogs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// maxLine is the longest line written as one record; longer lines are
// split into partial (P) records, as the kubelet does.
const maxLine = 16 * 1024

// Meta names the container a log belongs to.
type Meta struct {
	Namespace, Pod, Container, Node string
}

// Sink receives every line; it must not block.
type Sink interface {
	Ship(m Meta, stream string, t time.Time, line []byte)
}

// Writer is one container instance's log file.
type Writer struct {
	path    string
	maxSize int64
	meta    Meta
	sink    Sink

	mu      sync.Mutex
	streams map[string]*lineWriter
	f       *os.File
	size    int64
	err     error
}

// Open opens (appending) the log file at path; when it would grow past
// maxSize it is rotated to path.1 (one rotated file is kept).
func Open(path string, maxSize int64, meta Meta, sink Sink) (*Writer, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("podlogs: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, fmt.Errorf("podlogs: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("podlogs: %w", err)
	}
	if maxSize <= 0 {
		maxSize = 10 << 20
	}
	return &Writer{path: path, maxSize: maxSize, meta: meta, sink: sink, f: f, size: fi.Size()}, nil
}

// Path is the current log file.
func (w *Writer) Path() string { return w.path }

// Stream returns the writer for "stdout" or "stderr": it splits what the
// container writes into lines.
// Each stream has one line buffer, however often Stream is called.
func (w *Writer) Stream(stream string) io.Writer {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.streams == nil {
		w.streams = map[string]*lineWriter{}
	}
	lw := w.streams[stream]
	if lw == nil {
		lw = &lineWriter{w: w, stream: stream}
		w.streams[stream] = lw
	}
	return lw
}

// Close closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}

func (w *Writer) record(stream string, partial bool, line []byte) {
	now := time.Now().UTC()
	tag := "F"
	if partial {
		tag = "P"
	}
	rec := make([]byte, 0, len(line)+64)
	rec = now.AppendFormat(rec, time.RFC3339Nano)
	rec = append(rec, ' ')
	rec = append(rec, stream...)
	rec = append(rec, ' ')
	rec = append(rec, tag...)
	rec = append(rec, ' ')
	rec = append(rec, line...)
	rec = append(rec, '\n')

	w.mu.Lock()
	if w.f != nil {
		if w.size+int64(len(rec)) > w.maxSize && w.size > 0 {
			w.rotateLocked()
		}
		if w.f != nil {
			n, err := w.f.Write(rec)
			w.size += int64(n)
			if err != nil {
				w.err = err
			}
		}
	}
	w.mu.Unlock()
	if w.sink != nil {
		w.sink.Ship(w.meta, stream, now, line)
	}
}

func (w *Writer) rotateLocked() {
	w.f.Close()
	_ = os.Rename(w.path, w.path+".1")
	f, err := os.OpenFile(w.path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		w.err, w.f = err, nil
		return
	}
	w.f, w.size = f, 0
}

type lineWriter struct {
	w      *Writer
	stream string
	buf    []byte
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		line := l.buf[:i]
		for len(line) > maxLine {
			l.w.record(l.stream, true, line[:maxLine])
			line = line[maxLine:]
		}
		l.w.record(l.stream, false, line)
		l.buf = l.buf[i+1:]
	}
	for len(l.buf) > maxLine {
		l.w.record(l.stream, true, l.buf[:maxLine])
		l.buf = l.buf[maxLine:]
	}
	if len(l.buf) == 0 {
		l.buf = nil
	}
	return n, nil
}
