package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestVersionText(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Path: "roofline", Version: "v0.3.1"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-11-30T12:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	want := "roofline v0.3.1\nmodule roofline\nrevision abc123 (with uncommitted changes)\ncommitted 2026-11-30T12:00:00Z\ngo go1.26.0\n"
	if got := versionText(info); got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	stdout, _, code := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(stdout, "roofline ") || !strings.Contains(stdout, "\ngo go1.") {
		t.Errorf("exit %d: %q", code, stdout)
	}
}
