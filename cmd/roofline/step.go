package main

import "context"

func runStep(ctx context.Context, e *env, args []string) error { return notYet("step") }
