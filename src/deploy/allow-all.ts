/**
 * host_data values of the allow-all ("open door") confidential-container policies that are in
 * public use, as SHA-256 hex of the decoded ccePolicy. A key bound to one of them is released
 * to any container, so `skr policy lint` refuses them and `skr template validate` warns.
 * Each was computed here from the policy text found in public samples and SDK tests.
 */
export const ALLOW_ALL_HOSTDATA: ReadonlyMap<string, string> = new Map([
  ['73973b78d70cc68353426de188db5dfc57e5b766e399935fb73a61127ea26d20', 'Rego open-door policy (api_svn 0.10.0, env_list null), as `az confcom acipolicygen` debug samples use'],
  ['cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c', 'Rego open-door policy (api_svn 0.10.0)'],
  ['4f4448c67f3c8dfc8de8a5e37125d807dadcc41f06cf23f615dbd52eec777d10', 'Rego open-door policy (api_svn 0.10.0, framework_svn 0.1.0)'],
  ['a9df8d0ec2e42b822128d2716b44972e4b8fa2419d33f1ec339b673712af6d72', 'Rego open-door policy (api_version 0.10.0, framework_version 0.3.0)'],
  ['5c542a7860f317ab6fa314a817f0455fa7a8589fe8eca211dea16d59aec80ce9', 'legacy JSON {"allow_all": true, ...} as in the Azure SDK examples'],
  ['ab6ccfea6e8c9c6233b1a4631cfd6440ecf910694b34d7e92e0236738758831e', 'legacy JSON {"allow_all":true,...} (compact)'],
]);
