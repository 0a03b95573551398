package main

import "context"

func runAccuracy(ctx context.Context, e *env, args []string) error { return notYet("accuracy") }
