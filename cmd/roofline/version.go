package main

import (
	"context"
	"fmt"
	"runtime/debug"
)

// runVersion prints the module version and the VCS revision the binary was built
// from, as recorded by the Go toolchain (runtime/debug.ReadBuildInfo).
func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "version\n\nPrints the module version, VCS revision and time, and the Go version the binary was built with.")
	if err := parseFlagsArgs(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("version: unexpected argument %q", fs.Arg(0))
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintln(e.stdout, "roofline (no build information in this binary)")
		return nil
	}
	fmt.Fprint(e.stdout, versionText(info))
	return nil
}

// versionText formats build information: "roofline VERSION", then the revision, its
// time and whether the tree had uncommitted changes, then the Go version.
func versionText(info *debug.BuildInfo) string {
	v := info.Main.Version
	if v == "" {
		v = "(unknown)"
	}
	s := fmt.Sprintf("roofline %s\nmodule %s\n", v, info.Main.Path)
	set := map[string]string{}
	for _, kv := range info.Settings {
		set[kv.Key] = kv.Value
	}
	if rev := set["vcs.revision"]; rev != "" {
		s += "revision " + rev
		if set["vcs.modified"] == "true" {
			s += " (with uncommitted changes)"
		}
		s += "\n"
		if t := set["vcs.time"]; t != "" {
			s += "committed " + t + "\n"
		}
	} else {
		s += "revision unknown (built without VCS information)\n"
	}
	return s + "go " + info.GoVersion + "\n"
}
