package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config")
	if err := os.WriteFile(file, []byte("server: file:1\ntoken: file-token\nnamespace: file-ns\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("sever: typo:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(m map[string]string) Env { return func(k string) string { return m[k] } }
	for _, tc := range []struct {
		name    string
		o       Overrides
		env     map[string]string
		want    Config
		wantErr string
	}{
		{name: "file", o: Overrides{ConfigFile: file}, want: Config{"file:1", "file-token", "file-ns"}},
		{name: "env over file", o: Overrides{ConfigFile: file}, env: map[string]string{"SHOAL_SERVER": "env:1", "SHOAL_TOKEN": "env-token"},
			want: Config{"env:1", "env-token", "file-ns"}},
		{name: "flags over env", o: Overrides{ConfigFile: file, Server: "flag:1", Namespace: "flag-ns"}, env: map[string]string{"SHOAL_SERVER": "env:1"},
			want: Config{"flag:1", "file-token", "flag-ns"}},
		{name: "SHOAL_CONFIG", env: map[string]string{"SHOAL_CONFIG": file}, want: Config{"file:1", "file-token", "file-ns"}},
		{name: "defaults", o: Overrides{ConfigFile: ""}, env: map[string]string{"SHOAL_CONFIG": ""},
			want: Config{DefaultServer, "", DefaultNamespace}},
		{name: "missing explicit file", o: Overrides{ConfigFile: filepath.Join(dir, "nope")}, wantErr: "no such file"},
		{name: "unknown key", o: Overrides{ConfigFile: bad}, wantErr: `unknown field "sever"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "defaults" {
				t.Setenv("HOME", dir) // no .shoal/config there
			}
			got, err := Load(tc.o, env(tc.env))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
