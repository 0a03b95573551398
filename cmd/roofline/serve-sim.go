package main

import (
	"context"
	"fmt"
	"net"

	"roofline/bench/simserver"
)

func runServeSim(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "serve-sim", "serve-sim --model M --gpu G [--num-gpus N --tp …] [--engine E | --profile P] [--host 127.0.0.1] [--port 8000] [--served-model-name NAME]")
	var df deployFlags
	df.register(fs, true)
	host := fs.String("host", "127.0.0.1", "address to listen on (loopback by default)")
	port := fs.Int("port", 8000, "port to listen on (0: any free port)")
	served := fs.String("served-model-name", "", "model name the server reports (default: --model)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *port < 0 || *port > 65535 {
		return usageErr("--port %d: must be in 0..65535", *port)
	}
	d, pv, err := df.build(ctx, e)
	if err != nil {
		return err
	}
	if err := d.CheckFits(); err != nil {
		return err
	}
	name := *served
	if name == "" {
		name = df.model
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, fmt.Sprint(*port)))
	if err != nil {
		return fmt.Errorf("serve-sim: %v", err)
	}
	// The banner names the profile as the provenance does (its release, and "CUDA graphs off
	// (--enforce-eager)" when they are), then the deployment's warnings, as estimate prints them.
	fmt.Fprintf(e.stderr, "serve-sim: %s on %d× %s (%s) at http://%s/v1 — simulated timing, not a measurement; Ctrl-C stops\n",
		d.Model.ID, d.NumGPUs, d.GPU.ID, pv.Profile, ln.Addr())
	for _, w := range d.Warnings() {
		fmt.Fprintf(e.stderr, "warning: %v\n", w)
	}
	return simserver.Serve(ctx, d, name, ln)
}
