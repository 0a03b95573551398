package main

import "context"

func runGPUs(ctx context.Context, e *env, args []string) error { return notYet("gpus") }
