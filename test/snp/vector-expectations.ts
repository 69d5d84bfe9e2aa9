/**
 * Expected values of the genuine vectors, transcribed from fixtures/snp/README.md (which was
 * produced independently of skr's parser). Tests compare the parser's output with these.
 */
export interface VectorExpectation {
  version: number;
  product: 'Milan' | 'Genoa' | 'Turin';
  signer: 'VCEK' | 'VLEK';
  vmpl: number;
  guestSvn: number;
  policy: string;
  platformInfo: string;
  currentFirmware: string;
  committedFirmware: string;
  reportedTcb: { bootloader: number; tee: number; snp: number; microcode: number; fmc?: number };
  measurement: string;
  reportData: string;
  hostData: string;
  chipId: string;
  sha256: string;
  vekProductName: string;
  launchMitVector?: string;
}

export const VECTOR_EXPECTATIONS: Record<string, VectorExpectation> = {
  'milan-v2-gsg': {
    version: 2,
    product: 'Milan',
    signer: 'VCEK',
    vmpl: 0,
    guestSvn: 0,
    policy: '0xb0000',
    platformInfo: '0x1',
    currentFirmware: '1.49.3',
    committedFirmware: '1.49.3',
    reportedTcb: {
      bootloader: 2,
      tee: 0,
      snp: 5,
      microcode: 68,
    },
    measurement: 'b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01',
    reportData: '01020304050000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
    hostData: '0000000000000000000000000000000000000000000000000000000000000000',
    chipId: '3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d',
    sha256: '377e6241d3b373ab1df80c0f96978594e7e21f4797dd6ea95e2957e1c1e26060',
    vekProductName: 'Milan-B0',
  },
  'milan-v3-vlek-aws': {
    version: 3,
    product: 'Milan',
    signer: 'VLEK',
    vmpl: 1,
    guestSvn: 0,
    policy: '0x30000',
    platformInfo: '0x27',
    currentFirmware: '1.55.29',
    committedFirmware: '1.55.29',
    reportedTcb: {
      bootloader: 4,
      tee: 0,
      snp: 24,
      microcode: 217,
    },
    measurement: '8922ebbdd00ec2c541f36a6e7a82a8773a7accb451ed67bc94e740dbe92c93c4e8c9af857f5ceeb5a493df2a570d7bf0',
    reportData: '819770b7e6ea6df8dd8fd4dd146b073c0bf4f3ce5b0977ecac486e3a05ed1bd54e2a7ac1f5d1ca02e7d7d5ef9f73b8574fd9359e3a480d741a4478e8a7bc27ca',
    hostData: '0000000000000000000000000000000000000000000000000000000000000000',
    chipId: '00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
    sha256: 'decdab949afc590668e45869b20f23e4afc7ac03c61201ab20208c6668a58a2d',
    vekProductName: 'Milan',
  },
  'genoa-v3-azure-hcl': {
    version: 3,
    product: 'Genoa',
    signer: 'VCEK',
    vmpl: 0,
    guestSvn: 65547,
    policy: '0x3001f',
    platformInfo: '0x24',
    currentFirmware: '1.55.40',
    committedFirmware: '1.55.40',
    reportedTcb: {
      bootloader: 10,
      tee: 0,
      snp: 23,
      microcode: 84,
    },
    measurement: 'f57dc09a507c6ecd82369bffb600f0003792f4d99bc26e985ec0c266fc34faf3706faf814c9e61065768a6ff917c89ae',
    reportData: 'b581f12e29a2d7d64e5e0b738d563879a78b51c644d0fa0cce02b48699f6bf5f0000000000000000000000000000000000000000000000000000000000000000',
    hostData: '0000000000000000000000000000000000000000000000000000000000000000',
    chipId: '0506ffba875e939c2729d20c74eb72b4c5ba6bf7ea1faaa640141f12c6d64782fb487f68ce69dcd021e914cc0d9244327bc121f0242d6470903ad1d4aaea4ad1',
    sha256: '227a641db25e82ae50344a548bdb8497ddcbb4783d67012b56d2c052ac57b4ad',
    vekProductName: 'Genoa',
  },
  'milan-v5-gcp-vmpl1': {
    version: 5,
    product: 'Milan',
    signer: 'VCEK',
    vmpl: 1,
    guestSvn: 0,
    policy: '0x30000',
    platformInfo: '0x25',
    currentFirmware: '1.55.35',
    committedFirmware: '1.55.35',
    reportedTcb: {
      bootloader: 4,
      tee: 0,
      snp: 27,
      microcode: 222,
    },
    measurement: 'b747d55452e0b9e9079770a49e397c5e6d9573581e246da7baac4f28b5cdc5b1b6d19251b8ee600fd16a3708f58406f3',
    reportData: '32fc4f6c1971cbf91566231f8d6153eeb9d093aa94306cb48d39bcc4861a3d395f149876a37bc91332fe493f46294fd135d5b95d363ae96352b8c45f906079f5',
    hostData: '0000000000000000000000000000000000000000000000000000000000000000',
    chipId: '980cf7b61876cb37fd517cd44ce11c72d43c5408e66ab39138370ec59bc195e063254cb501d87d82f0b8b8dc774bcfe28019447711598f007390e4accc405361',
    sha256: '9afca715463a8e9ce30128e364e96a4daf7f43fe35b9b57ff54a02c73a542e08',
    vekProductName: 'Milan-B0',
    launchMitVector: '0xb',
  },
  'turin-v5-oak': {
    version: 5,
    product: 'Turin',
    signer: 'VCEK',
    vmpl: 0,
    guestSvn: 0,
    policy: '0x30000',
    platformInfo: '0x67',
    currentFirmware: '1.55.61',
    committedFirmware: '1.55.61',
    reportedTcb: {
      fmc: 0,
      bootloader: 1,
      tee: 0,
      snp: 2,
      microcode: 71,
    },
    measurement: 'f924dd18f168df60fbea937f0b086284d51b1b376de872bac43694f61134d57967c318018de7335503023dbb50dee624',
    reportData: 'e0fd0bdb6aa4030a6ddea9073e1fcec5be6c782a2c8075a0825dfb3d9a81b9240000000000000000000000000000000000000000000000000000000000000000',
    hostData: '0000000000000000000000000000000000000000000000000000000000000000',
    chipId: '3b42092f69c656d30000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000',
    sha256: '3f44a09b769aae243b2c603c2a6f53d4b1cf5feb36b380ea29adcf47da847e20',
    vekProductName: 'Turin',
    launchMitVector: '0x0',
  },
  'milan-v2-aci-thim': {
    version: 2,
    product: 'Milan',
    signer: 'VCEK',
    vmpl: 0,
    guestSvn: 2,
    policy: '0x3001f',
    platformInfo: '0x1',
    currentFirmware: '1.52.4',
    committedFirmware: '1.52.4',
    reportedTcb: {
      bootloader: 3,
      tee: 0,
      snp: 8,
      microcode: 115,
    },
    measurement: '51068107cdc7ee3d89c7821b05bca6147eb77b2005ae759050fc049b65a1b0beabc65a9d857acecf23225f5ec76849f5',
    reportData: 'ee986ff2bd7e3f22e29f640918627816cf8e23b9d9c312767168eab68c861c710000000000000000000000000000000000000000000000000000000000000000',
    hostData: 'cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c',
    chipId: 'b12164b45a2a27426e04ab52c5781d404fe2eab35ef5c4f714ce0fc23d2fb3f3e65631710244a4edfad191616be3366e48a6352b35128d748458bc9c282d0f5a',
    sha256: '8aa044299042322a6b8027c1445cbdd691c9312db75c2da1ad7d95d328750925',
    vekProductName: 'Milan-B0',
  },
  'milan-v3-oak': {
    version: 3,
    product: 'Milan',
    signer: 'VCEK',
    vmpl: 0,
    guestSvn: 0,
    policy: '0x30000',
    platformInfo: '0x25',
    currentFirmware: '1.55.29',
    committedFirmware: '1.55.29',
    reportedTcb: {
      bootloader: 4,
      tee: 0,
      snp: 24,
      microcode: 219,
    },
    measurement: '195b01b74976a1faba13bd85eaf787958f0a46e6dddd45c5bdbf8673522777842b8057ae5d866b75416efb62012deaa3',
    reportData: 'a7ca989b0359ea4e5efc47bdbcad84b2df3f26fd09ee7bda5bb27953abf689920000000000000000000000000000000000000000000000000000000000000000',
    hostData: '0000000000000000000000000000000000000000000000000000000000000000',
    chipId: 'a3fdc2c64dc299ab90d4238973864b586378e2e5ef9c9d4dc608f3bdaa89a969a03f1b5752cad55a0c1547ade800dbd7404e9cb3f9738da3b280d1df69cf82e4',
    sha256: '40a2778d02fa56e1d82ab108492919fca56549f4781e38002d61f23cf435fc9f',
    vekProductName: 'Milan-B0',
  },
  'genoa-v5-oak': {
    version: 5,
    product: 'Genoa',
    signer: 'VCEK',
    vmpl: 0,
    guestSvn: 0,
    policy: '0x30000',
    platformInfo: '0x25',
    currentFirmware: '1.55.43',
    committedFirmware: '1.55.43',
    reportedTcb: {
      bootloader: 10,
      tee: 0,
      snp: 25,
      microcode: 84,
    },
    measurement: 'c57729018b0a6fb90dc17bb138b0aa35e4401004283ff4a2c24d3739ff3750f52384370e77b7032862a08c440a9bc4dc',
    reportData: '8100555af0ad8e7525be6dffeed0af83e30bbacbf03b76e175e6894d1ed057ce0000000000000000000000000000000000000000000000000000000000000000',
    hostData: '0000000000000000000000000000000000000000000000000000000000000000',
    chipId: 'd2421d976f95ce0ba849b7cc5c789122f1e59c77a037272c137ae4d188bb102adbc7c53d0302bff82a432c94a305dec7a7a270ceb19a10f04a83316c6486968d',
    sha256: '6d1ceffae6ad5caeadbc27655b2dfabf38fe3a0033e2e3b4a8a5958f893c67a3',
    vekProductName: 'Genoa',
    launchMitVector: '0x1',
  },
};
