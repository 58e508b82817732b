using Flamewright.Protocol.Pprof;

namespace Flamewright.Server.Tests.Support;

/// <summary>What the upload tests check after a refused upload.</summary>
internal static class UploadChecks
{
    /// <summary>No upload and no EXECUTION_FINISHED for the task, and the same agent's next, proper upload is stored.</summary>
    public static async Task AssertNothingStoredAndStillServingAsync(this GraphQLClient graphql, GoLikeAgent agent, string taskId)
    {
        Assert.Empty(await graphql.UploadsAsync(taskId));
        Assert.DoesNotContain("EXECUTION_FINISHED", await graphql.OperationsAsync(taskId));

        Assert.Equal(PprofProfilingStatus.PprofProfilingSuccess, await agent.UploadAsync(taskId, TestData.Bytes("cpu")));
        Assert.Single(await graphql.UploadsAsync(taskId));
    }
}
