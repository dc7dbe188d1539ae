package flagenv

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// Parse parses args into fs and then fills every flag not set on the
// command line from its environment variable (see EnvName), if that
// variable is set and not empty. It also replaces fs.Usage so that -help
// documents the variables.
//
// Errors follow fs.ErrorHandling(), as fs.Parse does: with
// flag.ContinueOnError they are returned (flag.ErrHelp after -help), with
// ExitOnError the process exits, with PanicOnError it panics.
func Parse(fs *flag.FlagSet, prefix string, args []string) error {
	return ParseWithLookup(fs, prefix, args, os.LookupEnv)
}

// ParseWithLookup is Parse reading variables through lookup, which has the
// signature of os.LookupEnv, so that tests need not touch the process
// environment.
func ParseWithLookup(fs *flag.FlagSet, prefix string, args []string, lookup func(string) (string, bool)) error {
	envs, err := envNames(fs, prefix)
	if err != nil {
		// Two flags sharing a variable is a bug in the binary, not an
		// input error, so it is returned whatever the error handling.
		return err
	}
	fs.Usage = func() { printUsage(fs, envs) }
	if err := fs.Parse(args); err != nil {
		return err
	}

	onCommandLine := make(map[string]bool)
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })

	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if onCommandLine[f.Name] {
			return
		}
		name := envs[f.Name]
		v, ok := lookup(name)
		// An empty variable counts as unset: deployment templates often
		// export every variable, empty or not.
		if !ok || v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			// The value is left out on purpose: variables often carry
			// secrets and this error ends up in logs.
			errs = append(errs, fmt.Errorf("flagenv: invalid value in environment variable %s for flag -%s: %w", name, f.Name, err))
		}
	})
	err = errors.Join(errs...)
	if err == nil {
		return nil
	}
	switch fs.ErrorHandling() {
	case flag.ExitOnError:
		fmt.Fprintln(fs.Output(), err)
		os.Exit(2)
	case flag.PanicOnError:
		panic(err)
	}
	return err
}

// EnvName returns the environment variable that sets flag flagName:
// prefix and flag name joined by '_', upper-cased, with '-' and '.' turned
// into '_' ("SHOAL_APIGATEWAY", "etcd-endpoints" gives
// SHOAL_APIGATEWAY_ETCD_ENDPOINTS). An empty prefix gives the flag's
// variable alone.
func EnvName(prefix, flagName string) string {
	name := envPart(flagName)
	if p := strings.TrimSuffix(envPart(prefix), "_"); p != "" {
		name = p + "_" + name
	}
	return name
}

var envReplacer = strings.NewReplacer("-", "_", ".", "_")

func envPart(s string) string {
	return strings.ToUpper(envReplacer.Replace(s))
}

// envNames maps each flag of fs to its variable and rejects flags that
// would share one ("a-b" and "a.b"), which would make precedence silently
// depend on visiting order.
func envNames(fs *flag.FlagSet, prefix string) (map[string]string, error) {
	envs := make(map[string]string)
	owner := make(map[string]string)
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		name := EnvName(prefix, f.Name)
		if other, dup := owner[name]; dup {
			errs = append(errs, fmt.Errorf("flagenv: flags -%s and -%s both map to environment variable %s", other, f.Name, name))
			return
		}
		owner[name] = f.Name
		envs[f.Name] = name
	})
	return envs, errors.Join(errs...)
}

// printUsage mirrors flag.PrintDefaults, adding each flag's variable and
// always stating the default, so an operator reading -help of a unit
// file's binary knows what an unset variable means.
func printUsage(fs *flag.FlagSet, envs map[string]string) {
	var b strings.Builder
	if fs.Name() == "" {
		b.WriteString("Usage:\n")
	} else {
		fmt.Fprintf(&b, "Usage of %s:\n", fs.Name())
	}
	fs.VisitAll(func(f *flag.Flag) { // in name order
		typ, usage := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  -%s", f.Name)
		if typ != "" {
			fmt.Fprintf(&b, " %s", typ)
		}
		b.WriteString("\n    \t")
		b.WriteString(strings.ReplaceAll(usage, "\n", "\n    \t"))
		if usage != "" {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "(default %s)\n    \tenv %s\n", formatDefault(f), envs[f.Name])
	})
	b.WriteString("Flags not given on the command line are read from their environment variable.\n")
	fmt.Fprint(fs.Output(), b.String())
}

// formatDefault quotes string defaults, as flag.PrintDefaults does, so an
// empty default is visible.
func formatDefault(f *flag.Flag) string {
	if g, ok := f.Value.(flag.Getter); ok {
		if _, isString := g.Get().(string); isString {
			return fmt.Sprintf("%q", f.DefValue)
		}
	}
	return f.DefValue
}
