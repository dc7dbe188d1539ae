// Package cmd is shoalctl's command tree (cobra): kubectl's verbs over the
// Shoal API. Execute runs it; tests run it in-process against a real
// gateway with their own streams, environment and clock.
package cmd

import (
	"context"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/tools/shoalctl/config"
	"github.com/shoalmesh/shoal/tools/shoalctl/printers"
)

// Options are the process around the command tree.
type Options struct {
	In       io.Reader
	Out, Err io.Writer
	// Env reads environment variables (os.Getenv when nil).
	Env func(string) string
	// Now is the clock for ages (time.Now when nil).
	Now func() time.Time
}

// app is the state one run of the tree shares: settings and a connection.
type app struct {
	opts      Options
	overrides config.Overrides
	cfg       config.Config
	loaded    bool
	conn      *grpc.ClientConn
}

// Execute runs shoalctl with args (without the program name) and returns
// the exit code. Errors are printed to Err as lines starting "error: ".
func Execute(ctx context.Context, args []string, o Options) int {
	if o.In == nil {
		o.In = os.Stdin
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Err == nil {
		o.Err = os.Stderr
	}
	if o.Env == nil {
		o.Env = os.Getenv
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	a := &app{opts: o}
	defer a.close()
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(o.In)
	root.SetOut(o.Out)
	root.SetErr(o.Err)
	if err := root.ExecuteContext(ctx); err != nil {
		printError(o.Err, err)
		return 1
	}
	return 0
}

// printError prints every line of err as "error: <line>".
func printError(w io.Writer, err error) {
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		io.WriteString(w, "error: "+line+"\n")
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "shoalctl",
		Short: "shoalctl controls a Shoal cluster",
		Long: `shoalctl controls a Shoal cluster, with kubectl's verbs and habits.

Connection settings come from flags, then the environment (SHOAL_SERVER,
SHOAL_TOKEN, SHOAL_NAMESPACE), then the config file (~/.shoal/config or
SHOAL_CONFIG: YAML with server, token, namespace), then the defaults
(127.0.0.1:6443, namespace default).`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Name() == cobra.ShellCompRequestCmd || cmd.Name() == cobra.ShellCompNoDescRequestCmd {
				return nil // the flags of the command being completed are parsed later
			}
			return a.loadConfig()
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.overrides.Server, "server", "", "address of the Shoal API (host:port)")
	pf.StringVar(&a.overrides.Token, "token", "", "bearer token for the API")
	pf.StringVarP(&a.overrides.Namespace, "namespace", "n", "", "namespace of the request")
	pf.StringVar(&a.overrides.ConfigFile, "config", "", "config file (default ~/.shoal/config)")
	_ = root.RegisterFlagCompletionFunc("namespace", a.completeNames("namespaces"))

	root.AddGroup(&cobra.Group{ID: "basic", Title: "Basic commands:"},
		&cobra.Group{ID: "deploy", Title: "Deploy commands:"},
		&cobra.Group{ID: "cluster", Title: "Cluster management commands:"},
		&cobra.Group{ID: "debug", Title: "Troubleshooting commands:"})
	for _, c := range []struct {
		group string
		cmd   *cobra.Command
	}{
		{"basic", a.applyCommand()},
		{"basic", a.getCommand()},
		{"basic", a.deleteCommand()},
		{"basic", a.setCommand()},
		{"deploy", a.rolloutCommand()},
		{"deploy", a.scaleCommand()},
		{"cluster", a.cordonCommand(true)},
		{"cluster", a.cordonCommand(false)},
		{"cluster", a.drainCommand()},
		{"debug", a.describeCommand()},
		{"debug", a.logsCommand()},
	} {
		c.cmd.GroupID = c.group
		root.AddCommand(c.cmd)
	}
	return root
}

// loadConfig resolves the settings once per run (completion skips the
// pre-run hooks, so connect calls it too).
func (a *app) loadConfig() error {
	if a.loaded {
		return nil
	}
	cfg, err := config.Load(a.overrides, a.opts.Env)
	if err != nil {
		return err
	}
	a.cfg, a.loaded = cfg, true
	return nil
}

// connect dials the API once per run.
func (a *app) connect(ctx context.Context) (*grpc.ClientConn, error) {
	if a.conn != nil {
		return a.conn, nil
	}
	if err := a.loadConfig(); err != nil {
		return nil, err
	}
	var opts []client.Option
	if a.cfg.Token != "" {
		opts = append(opts, client.WithToken(a.cfg.Token))
	}
	conn, err := client.Dial(ctx, a.cfg.Server, opts...)
	if err != nil {
		return nil, err
	}
	a.conn = conn
	return conn, nil
}

func (a *app) close() {
	if a.conn != nil {
		a.conn.Close()
	}
}

// namespace is the namespace of the request.
func (a *app) namespace() string { return a.cfg.Namespace }

// namespaceExplicit reports whether -n (or SHOAL_NAMESPACE) chose it.
func (a *app) namespaceExplicit() bool {
	return a.overrides.Namespace != "" || a.opts.Env("SHOAL_NAMESPACE") != ""
}

func (a *app) table() *printers.Table { return &printers.Table{Now: a.opts.Now} }

func (a *app) out() io.Writer { return a.opts.Out }
