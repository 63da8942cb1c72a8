// The scheduler (see cairn/scheduler/scheduler.h).
