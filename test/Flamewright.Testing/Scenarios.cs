using Flamewright.Protocol.Pprof;
using Flamewright.Server.Tasks;

namespace Flamewright.Testing;

/// <summary>The steps most tests start with, each as a user and a Go agent would take them.</summary>
internal static class Scenarios
{
    /// <summary>The duration a test gives a CPU, BLOCK or MUTEX task unless it cares: the smallest allowed.</summary>
    public const int Duration = 1;

    /// <summary>The dumpPeriod a test gives a BLOCK or MUTEX task unless it cares.</summary>
    public const int DumpPeriod = 10;

    /// <summary>
    /// Registers each agent, creates a task of <paramref name="events"/> for all their instances (one service)
    /// with the smallest valid duration and dumpPeriod, and lets each agent take it on a poll.
    /// </summary>
    public static async Task<string> TaskTakenByAsync(this GraphQLClient graphql, string events, params GoLikeAgent[] agents)
    {
        foreach (GoLikeAgent agent in agents)
        {
            await agent.RegisterAsync();
        }

        PprofEvent e = Enum.Parse<PprofEvent>(events);
        string taskId = await graphql.CreateTaskAsync(agents[0].ServiceId, agents.Select(a => a.InstanceId), events,
            e.HasDuration() ? Duration : null, e.HasDumpPeriod() ? DumpPeriod : null);
        foreach (GoLikeAgent agent in agents)
        {
            string? taken = (await agent.PollAsync())?.TaskId;
            Expect.That(taken == taskId, $"{agent.InstanceId} took {taken ?? "no task"} on its poll, not {taskId}");
        }

        return taskId;
    }

    /// <summary>A task of <paramref name="events"/> that each agent took and answered with its profile.</summary>
    public static async Task<string> TaskWithUploadsAsync(this GraphQLClient graphql, string events, params (GoLikeAgent Agent, byte[] Profile)[] uploads)
    {
        string taskId = await graphql.TaskTakenByAsync(events, [.. uploads.Select(u => u.Agent)]);
        foreach ((GoLikeAgent agent, byte[] profile) in uploads)
        {
            PprofProfilingStatus status = await agent.UploadAsync(taskId, profile);
            Expect.That(status == PprofProfilingStatus.PprofProfilingSuccess, $"{agent.InstanceId}'s upload was answered {status}");
        }

        return taskId;
    }
}
