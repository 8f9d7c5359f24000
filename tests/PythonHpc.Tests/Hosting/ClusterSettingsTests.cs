using Microsoft.Extensions.Configuration;
using PythonHpc.Hosting;
using PythonHpc.Tests.Support;

namespace PythonHpc.Tests.Hosting;

/// <summary>Settings a cluster needs, checked at start with the key named.</summary>
public sealed class ClusterSettingsTests
{
    private static AppSettings Load(params (string Key, string Value)[] values) =>
        AppSettings.Load(new ConfigurationBuilder().AddInMemoryCollection(
            values.Append((Key: "Content:PostsPath", Value: FeedBuild.Testdata("samples"))).Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build());

    [Fact]
    public void PostgreSQL_without_a_shared_token_secret_is_refused_because_each_node_would_sign_with_its_own()
    {
        var error = Assert.Throws<ConfigurationException>(() => Load(("Store:Provider", "Postgres"), ("Store:ConnectionString", "Host=db;Database=blog")));
        Assert.StartsWith("Security:TokenSecret must be set with Store:Provider Postgres", Assert.Single(error.Errors));

        var settings = Load(("Store:Provider", "Postgres"), ("Store:ConnectionString", "Host=db;Database=blog"), ("Security:TokenSecret", new string('k', 40)));
        Assert.True(settings.Store.IsPostgres);
        Assert.Equal(TimeSpan.FromSeconds(30), settings.Cluster.FailoverAfter);
    }

    [Theory]
    [InlineData("00:00:01")]
    [InlineData("02:00:00")]
    public void A_failover_time_out_of_range_is_refused_naming_the_key(string value)
    {
        var error = Assert.Throws<ConfigurationException>(() => Load(("Cluster:FailoverAfter", value)));
        Assert.StartsWith("Cluster:FailoverAfter must be between 00:00:03 and 01:00:00", Assert.Single(error.Errors));
    }
}
