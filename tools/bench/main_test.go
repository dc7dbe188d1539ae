package main

import (
	"slices"
	"testing"
)

func TestIntList(t *testing.T) {
	tests := []struct {
		in      string
		want    []int
		wantErr bool
	}{
		{in: "1,8,32,64", want: []int{1, 8, 32, 64}},
		{in: "1000, 10_000", want: []int{1000, 10000}},
		{in: "5", want: []int{5}},
		{in: "1,,2", wantErr: true},
		{in: "ten", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			var l intList
			err := l.Set(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && !slices.Equal(l, tc.want) {
				t.Errorf("got %v, want %v", l, tc.want)
			}
		})
	}
}

func TestStringList(t *testing.T) {
	var l stringList
	if err := l.Set(" throughput, ,fanout"); err != nil {
		t.Fatal(err)
	}
	if want := []string{"throughput", "fanout"}; !slices.Equal(l, want) {
		t.Errorf("got %v, want %v", l, want)
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want []string
	}{
		{name: "built binary", argv: []string{"bin/bench", "--watchers", "1000"}, want: []string{"bin/bench", "--watchers", "1000"}},
		{name: "go run", argv: []string{"/tmp/go-build123/b001/exe/bench", "--markdown", "x.md"}, want: []string{"go", "run", "./tools/bench", "--markdown", "x.md"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := commandLine(tc.argv); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
