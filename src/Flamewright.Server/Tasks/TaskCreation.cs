namespace Flamewright.Server.Tasks;

/// <summary>A request to create a task, as GraphQL's <c>PprofTaskCreationRequest</c> carries it.</summary>
public sealed record TaskCreationRequest(string? ServiceId, IReadOnlyList<string>? ServiceInstanceIds, PprofEvent? Events, int? Duration, int? DumpPeriod);

/// <summary>SkyWalking's <c>PprofTaskCreationType</c>.</summary>
#pragma warning disable CA1707 // The names are SkyWalking's GraphQL enum values.
public enum TaskCreationCode
{
    SUCCESS,
    ARGUMENT_ERROR,
    ALREADY_PROFILING_ERROR,
}
#pragma warning restore CA1707

/// <summary>The answer to a creation request: the task, or the reason there is none.</summary>
public sealed record TaskCreationResult(TaskCreationCode Code, string? ErrorReason, ProfilingTask? Task)
{
    /// <summary>SkyWalking's message for ALREADY_PROFILING_ERROR, word for word: clients may match it.</summary>
    public const string AlreadyProfilingReason = "current service already has monitor pprof task execute at this time";

    public static TaskCreationResult Invalid(string reason) => new(TaskCreationCode.ARGUMENT_ERROR, reason, null);
}

/// <summary>The creation rules, in SkyWalking's order and words (docs/protocol.md, "Creating a task"): the first failure wins.</summary>
public static class TaskCreationRules
{
    /// <summary>Longest duration of a CPU, BLOCK or MUTEX task, in minutes.</summary>
    public const int MaxDurationMinutes = 15;

    /// <summary>The first rule the request breaks, or <c>null</c>.</summary>
    public static string? FirstViolation(TaskCreationRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.ServiceId))
        {
            return "service cannot be null";
        }

        if (request.Events is not PprofEvent e)
        {
            return "events cannot be empty";
        }

        if (e.HasDuration())
        {
            if (request.Duration is not > 0)
            {
                return "duration cannot be negative";
            }

            if (request.Duration > MaxDurationMinutes)
            {
                return "duration cannot be greater than 15 minutes";
            }
        }

        if (e.HasDumpPeriod() && request.DumpPeriod is not > 0)
        {
            return "dumpPeriod cannot be negative";
        }

        if (request.ServiceInstanceIds is null || request.ServiceInstanceIds.Count == 0)
        {
            return "serviceInstanceIds cannot be empty";
        }

        // Beyond the reference: ids that can never be dispatched are refused instead of waiting forever.
        if (SkyWalkingIds.ServiceNameOf(request.ServiceId) is null)
        {
            return $"serviceId '{request.ServiceId}' is not a service id";
        }

        foreach (string instance in request.ServiceInstanceIds)
        {
            if (SkyWalkingIds.SplitInstanceId(instance ?? "") is not { } parts || parts.ServiceId != request.ServiceId)
            {
                return $"serviceInstanceIds: '{instance}' is not an instance of service '{request.ServiceId}'";
            }
        }

        return null;
    }
}
