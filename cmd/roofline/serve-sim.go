package main

import "context"

func runServeSim(ctx context.Context, e *env, args []string) error { return notYet("serve-sim") }
