//! The middleware's rejection paths, modes and requirements, each with its exact status and
//! `WWW-Authenticate` value, by concern.

mod auth;
mod refresh;
mod require;
mod responses;
mod support;
