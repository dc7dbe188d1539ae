package controllerbench

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// calls counts the controller's finished gRPC calls to the gateway by kind
// of call, from its shoal_grpc_client_handled_total metric.
type calls struct {
	writes, events, reads int64
}

func (c calls) minus(o calls) calls {
	return calls{writes: c.writes - o.writes, events: c.events - o.events, reads: c.reads - o.reads}
}

// scrapeCalls reads the controller's /metrics.
func scrapeCalls(ctx context.Context, addr string) (calls, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return calls{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return calls{}, err
	}
	defer resp.Body.Close()
	var out calls
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	const metric = "shoal_grpc_client_handled_total{"
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, metric) {
			continue
		}
		_, rest, ok := strings.Cut(line, `method="`)
		if !ok {
			continue
		}
		method, _, _ := strings.Cut(rest, `"`)
		fields := strings.Fields(line)
		v, err := strconv.ParseFloat(fields[len(fields)-1], 64)
		if err != nil {
			return calls{}, fmt.Errorf("controllerbench: metric line %q: %w", line, err)
		}
		name := method[strings.LastIndexByte(method, '/')+1:]
		switch {
		case name == "CreateEvent" || name == "UpdateEvent":
			out.events += int64(v)
		case strings.HasPrefix(name, "Create"), strings.HasPrefix(name, "Update"), strings.HasPrefix(name, "Delete"):
			out.writes += int64(v)
		default:
			out.reads += int64(v)
		}
	}
	return out, sc.Err()
}
