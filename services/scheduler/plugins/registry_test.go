package plugins_test

import (
	"errors"
	"testing"

	"github.com/shoalmesh/shoal/services/scheduler/framework"
	"github.com/shoalmesh/shoal/services/scheduler/plugins"
)

func TestDefaultProfileBuilds(t *testing.T) {
	fw, err := framework.New(plugins.NewInTreeRegistry(), plugins.DefaultProfile())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(fw.PluginNames()), len(plugins.NewInTreeRegistry()); got != want {
		t.Errorf("default profile uses %d plugins, registry has %d", got, want)
	}
	events := fw.EventsToRegister()
	for _, name := range plugins.DefaultProfile().Filters {
		if len(events[name]) == 0 {
			t.Errorf("filter %s registers no cluster events: pods it rejects would only be retried by the timer", name)
		}
	}
}

func TestRegistryRejectsDuplicates(t *testing.T) {
	reg := plugins.NewInTreeRegistry()
	err := reg.Register(plugins.NodeResourcesFitName, func() (framework.Plugin, error) { return &plugins.NodeResourcesFit{}, nil })
	if !errors.Is(err, framework.ErrDuplicatePlugin) {
		t.Errorf("Register of an in-tree name: %v, want ErrDuplicatePlugin", err)
	}
	err = reg.Merge(framework.Registry{"Custom": nil, plugins.NodePortsName: nil})
	if !errors.Is(err, framework.ErrDuplicatePlugin) {
		t.Errorf("Merge with an in-tree name: %v, want ErrDuplicatePlugin", err)
	}
	if _, ok := reg["Custom"]; ok {
		t.Error("a failed Merge registered part of its plugins")
	}
}
