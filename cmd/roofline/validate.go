package main

import "context"

func runValidate(ctx context.Context, e *env, args []string) error { return notYet("validate") }
