package main

import "context"

func runEstimate(ctx context.Context, e *env, args []string) error { return notYet("estimate") }
