package main

import "context"

func runMemory(ctx context.Context, e *env, args []string) error { return notYet("memory") }
