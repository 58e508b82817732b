using Flamewright.Protocol.Pprof;
using Flamewright.Server.Tasks;

namespace Flamewright.Server.Tests.Support;

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
            Assert.Equal(taskId, (await agent.PollAsync())?.TaskId);
        }

        return taskId;
    }

    /// <summary>A task of <paramref name="events"/> that each agent took and answered with its profile.</summary>
    public static async Task<string> TaskWithUploadsAsync(this GraphQLClient graphql, string events, params (GoLikeAgent Agent, byte[] Profile)[] uploads)
    {
        string taskId = await graphql.TaskTakenByAsync(events, [.. uploads.Select(u => u.Agent)]);
        foreach ((GoLikeAgent agent, byte[] profile) in uploads)
        {
            Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, profile));
        }

        return taskId;
    }

    /// <summary>No upload and no EXECUTION_FINISHED for the task, and the same agent's next, proper upload is stored.</summary>
    public static async Task AssertNothingStoredAndStillServingAsync(this GraphQLClient graphql, GoLikeAgent agent, string taskId)
    {
        Assert.Empty(await graphql.UploadsAsync(taskId));
        Assert.DoesNotContain("EXECUTION_FINISHED", await graphql.OperationsAsync(taskId));

        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, TestData.Bytes("cpu")));
        Assert.Single(await graphql.UploadsAsync(taskId));
    }
}
