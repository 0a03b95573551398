package main

import "context"

func runReport(ctx context.Context, e *env, args []string) error { return notYet("report") }
