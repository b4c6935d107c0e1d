// Package deploy checks Switchback's production deployment files at the
// root of the repository: docker-compose.yml, .env.example, Dockerfile and
// .dockerignore, plus the scripts and Temporal dynamic configuration under
// deploy/temporal that the compose services mount.
//
// The package has no code of its own: its tests load docker-compose.yml
// with compose-go, the loader of `docker compose` itself, and check it
// against the code (the settings internal/config reads, the temporal-setup
// service running `switchback setup` from the worker's image, the Temporal
// version in go.mod), so that CI catches drift without a Docker engine.
package deploy
