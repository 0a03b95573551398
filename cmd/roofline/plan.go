package main

import "context"

func runPlan(ctx context.Context, e *env, args []string) error { return notYet("plan") }
