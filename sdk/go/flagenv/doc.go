// Package flagenv lets every Shoal binary take its configuration from
// flags or, for flags not given on the command line, from environment
// variables named after them. The precedence is command line, then
// environment, then the flag's default, so a systemd unit or a container
// spec can set defaults that an operator still overrides by hand.
//
// A flag "etcd-endpoints" of a binary using prefix "SHOAL_APIGATEWAY" is
// read from SHOAL_APIGATEWAY_ETCD_ENDPOINTS; see EnvName. The generated
// --help lists every flag with its default, its usage and its variable.
//
// Usage in a main package:
//
//	fs := flag.NewFlagSet("apigateway", flag.ContinueOnError)
//	listen := fs.String("listen", ":7443", "gRPC listen address")
//	etcd := fs.String("etcd-endpoints", "", "etcd client URLs, comma-separated; empty runs an embedded etcd")
//	if err := flagenv.Parse(fs, "SHOAL_APIGATEWAY", os.Args[1:]); err != nil {
//		if errors.Is(err, flag.ErrHelp) {
//			os.Exit(0)
//		}
//		fmt.Fprintln(os.Stderr, err)
//		os.Exit(2)
//	}
package flagenv
