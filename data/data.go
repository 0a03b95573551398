// Package data embeds roofline's default catalogues: GPU specs (gpus.toml), Hugging Face
// model configs (models/*.json), engine profiles (engines/*.toml) and validation
// measurements (validation/*.csv). Every file carries its source; see each folder's notes.
package data

import "embed"

// FS holds every embedded data file, with paths relative to this folder.
//
//go:embed gpus.toml hardware models engines validation
var FS embed.FS
