package dev.timbre.job;

public enum JobStatus { PENDING, PROCESSING, COMPLETED, FAILED }
